//! The declared streams as far as their sources resolve, for describing them without running.

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
    /// (A consumer group shared with another stream is no fault of this source's resolving.)
    pub(crate) fn resolved_but_brokers(&self) -> bool {
        self.problems
            .iter()
            .all(|p| p.error.option == "bootstrap_server" || p.error.option == SHARED_GROUP)
    }
}

impl Runtime {
    /// Every stream with its source resolved as far as it goes.
    pub(crate) fn describe(&self) -> Vec<StreamDescription> {
        let describe = |descriptor| self.describe_one(descriptor);
        let mut descriptions: Vec<_> = self.registry.streams().iter().map(describe).collect();
        let left_out: Vec<_> = self.registry.left_out().iter().map(describe).collect();
        refuse_shared_groups(&mut descriptions, &left_out);
        descriptions
    }

    fn describe_one(&self, &descriptor: &&'static StreamDescriptor) -> StreamDescription {
        let source = descriptor.source();
        let (resolved, errors) = source.resolve_as_far_as_it_goes(&*self.env, &self.overrides);
        let problems = errors
            .into_iter()
            .map(|error| problem_of(descriptor, error))
            .collect();
        StreamDescription {
            descriptor,
            source: resolved,
            problems,
        }
    }
}

/// `error` of `descriptor`'s source, as a problem naming the stream and its source.
pub(crate) fn problem_of(descriptor: &StreamDescriptor, error: SourceError) -> ConfigProblem {
    ConfigProblem {
        stream: descriptor.name().to_owned(),
        source_name: descriptor.source().integration_name().map(str::to_owned),
        error,
    }
}

/// The option a problem of a consumer group shared with another stream names.
pub(crate) const SHARED_GROUP: &str = "name";

/// Refuses a stream whose consumer group another stream would share (`orders` under the prefix
/// `chalk/`, `chalk/orders` under none) on the same brokers, reading a topic of its: each would
/// read only some of that topic's partitions, and take up where the other left off. The other
/// may be one left out of this run (`run --only`), run by another process. Equal names are
/// refused by the registry already.
fn refuse_shared_groups(descriptions: &mut [StreamDescription], left_out: &[StreamDescription]) {
    for at in 0..descriptions.len() {
        let (earlier, rest) = descriptions.split_at_mut(at);
        let description = &mut rest[0];
        let Some(other) = earlier
            .iter()
            .chain(left_out)
            .find(|other| shares_partitions(description, other))
        else {
            continue;
        };
        let name = description.descriptor.name();
        let group = description.source.group_id(name);
        let error = SourceError {
            option: SHARED_GROUP,
            problem: format!(
                "its consumer group `{group}` is stream `{}`'s too, on the same brokers and \
                 topics: the two would share the partitions, each reading only some of them",
                other.descriptor.name()
            ),
            fix: "give one of them another name (#[stream(name = \"...\")]) or group_id_prefix"
                .to_owned(),
        };
        let problem = problem_of(description.descriptor, error);
        description.problems.push(problem);
    }
}

/// Whether the two streams' consumers would join one group on one cluster and subscribe to a
/// topic in common. Brokers not known (not set) count as the same.
fn shares_partitions(a: &StreamDescription, b: &StreamDescription) -> bool {
    let (a_servers, b_servers) = (&a.source.bootstrap_servers, &b.source.bootstrap_servers);
    a.resolved("group_id_prefix")
        && b.resolved("group_id_prefix")
        && a.source.group_id(a.descriptor.name()) == b.source.group_id(b.descriptor.name())
        && (a_servers.is_empty()
            || b_servers.is_empty()
            || a_servers.iter().any(|server| b_servers.contains(server)))
        && a.source
            .topics
            .iter()
            .any(|topic| b.source.topics.contains(topic))
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
