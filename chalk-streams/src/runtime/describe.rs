//! The declared streams as far as their sources resolve, for describing them without running.

use std::collections::HashMap;

use super::{Runtime, StreamPlan};
use crate::error::ConfigProblem;
use crate::registry::{Registry, StreamDescriptor};
use crate::source::{ResolvedSource, SourceError};

/// What resolving a stream's source found: what `list` shows, and what
/// [`Runtime::plan`] starts from.
#[derive(Debug)]
pub(crate) struct StreamDescription {
    /// The declared stream.
    pub(crate) descriptor: &'static StreamDescriptor,
    /// Its source, resolved as far as it goes: an option a problem names holds its default, or
    /// what was found wrong.
    pub(crate) source: ResolvedSource,
    /// Why `run` would refuse to start it.
    pub(crate) problems: Vec<ConfigProblem>,
}

impl StreamDescription {
    /// Whether `option` resolved: no problem names it.
    pub(crate) fn resolved(&self, option: &str) -> bool {
        self.problems.iter().all(|p| p.error.option != option)
    }

    /// Whether the source resolves but for its brokers: a stream only described needs none.
    pub(crate) fn resolved_but_brokers(&self) -> bool {
        self.problems
            .iter()
            .all(|p| p.error.option == "bootstrap_server")
    }
}

impl Runtime {
    /// Every stream with its source resolved as far as it goes.
    pub(crate) fn describe(&self) -> Vec<StreamDescription> {
        let mut descriptions = self.describe_each();
        refuse_shared_groups(&mut descriptions);
        descriptions
    }

    fn describe_each(&self) -> Vec<StreamDescription> {
        self.registry
            .streams()
            .iter()
            .map(|&descriptor| {
                let source = descriptor.source();
                let (resolved, errors) =
                    source.resolve_as_far_as_it_goes(&*self.env, &self.overrides);
                let problems = errors
                    .into_iter()
                    .map(|error| ConfigProblem {
                        stream: descriptor.name().to_owned(),
                        source_name: source.integration_name().map(str::to_owned),
                        error,
                    })
                    .collect();
                StreamDescription {
                    descriptor,
                    source: resolved,
                    problems,
                }
            })
            .collect()
    }
}

/// Refuses a consumer group that two streams would share (`orders` under the prefix `chalk/`,
/// `chalk/orders` under none): each would read only some of the partitions of its topics, and
/// take up where the other left off. Equal names are refused by the registry already.
fn refuse_shared_groups(descriptions: &mut [StreamDescription]) {
    let mut owners: HashMap<String, &'static str> = HashMap::new();
    for description in descriptions {
        if !description.resolved("group_id_prefix") {
            continue;
        }
        let name = description.descriptor.name();
        let group = description.source.group_id(name);
        match owners.get(&group) {
            Some(&owner) => description.problems.push(ConfigProblem {
                stream: name.to_owned(),
                source_name: description
                    .descriptor
                    .source()
                    .integration_name()
                    .map(str::to_owned),
                error: SourceError {
                    option: "name",
                    problem: format!(
                        "its consumer group `{group}` is stream `{owner}`'s too: the two would \
                         share the partitions, each reading only some of them"
                    ),
                    fix: "give one of them another name (#[stream(name = \"...\")]) or \
                          group_id_prefix"
                        .to_owned(),
                },
            }),
            None => {
                owners.insert(group, name);
            }
        }
    }
}

/// Warns of each window stream reading several topics: its windows are kept per topic and
/// partition, as its offsets are.
pub(crate) fn warn_of_windows_across_topics(plans: &[StreamPlan]) {
    for plan in plans {
        if !plan.descriptor.windows().is_empty() && plan.source.topics.len() > 1 {
            tracing::warn!(
                stream = plan.descriptor.name(),
                topics = ?plan.source.topics,
                "a window stream keeps its windows per topic and partition: a key's messages \
                 in two of these topics fill two windows, whose outputs (one feature, one \
                 feature time) replace each other"
            );
        }
    }
}

/// Notes what the streams declare together that a reader of one stream's code may not see:
/// features written by several streams, and streams that store nothing.
pub(crate) fn note_declarations(registry: &Registry) {
    for ((entity, feature), streams) in registry.features_written_by_several() {
        tracing::info!(
            entity,
            feature,
            ?streams,
            "several streams write this feature: the value with the newer feature time wins"
        );
    }
    for stream in registry.streams_storing_nothing() {
        tracing::warn!(
            stream,
            "the stream's Features struct has no feature besides its #[primary] key: it stores \
             nothing"
        );
    }
}
