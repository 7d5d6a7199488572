//! The declared streams as far as their sources resolve, for describing them without running.

use super::Runtime;
use crate::error::ConfigProblem;
use crate::registry::StreamDescriptor;
use crate::source::resolve::partial::PartlyResolved;
use crate::source::resolve::Overrides;
use crate::source::ResolvedSource;

/// What resolving a stream's source found: what `list` shows, and what
/// [`Runtime::plan`] starts from.
#[derive(Debug)]
pub(crate) struct StreamDescription {
    /// The declared stream.
    pub(crate) descriptor: &'static StreamDescriptor,
    /// Its source, resolved; with no brokers when they are all it lacks, `None` when more is
    /// wrong.
    pub(crate) source: Option<ResolvedSource>,
    /// When `source` is `None`: its topics, deadline and group prefix, those that resolve alone.
    pub(crate) partly: PartlyResolved,
    /// Why `run` would refuse to start it.
    pub(crate) problems: Vec<ConfigProblem>,
}

impl Runtime {
    /// Every stream with its source resolved as far as it goes. A stream only described needs
    /// no brokers, so a source that lacks only those is resolved whole, without them.
    pub(crate) fn describe(&self) -> Vec<StreamDescription> {
        self.registry
            .streams()
            .iter()
            .map(|&descriptor| {
                let source = descriptor.source();
                let errors = match source.resolve(&*self.env, &self.overrides) {
                    Ok(resolved) => {
                        return StreamDescription {
                            descriptor,
                            source: Some(resolved),
                            partly: PartlyResolved::default(),
                            problems: Vec::new(),
                        }
                    }
                    Err(errors) => errors,
                };
                let only_brokers_missing = errors.iter().all(|e| e.option == "bootstrap_server");
                let without_brokers = Overrides {
                    bootstrap_servers: Some("-".to_owned()),
                    ..self.overrides.clone()
                };
                let resolved = only_brokers_missing
                    .then(|| source.resolve(&*self.env, &without_brokers).ok())
                    .flatten()
                    .map(|mut resolved| {
                        resolved.bootstrap_servers.clear();
                        resolved
                    });
                let problems = errors
                    .into_iter()
                    .map(|error| ConfigProblem {
                        stream: descriptor.name().to_owned(),
                        source_name: source.integration_name().map(str::to_owned),
                        error,
                    })
                    .collect();
                let partly = if resolved.is_some() {
                    PartlyResolved::default()
                } else {
                    source.resolve_each(&*self.env)
                };
                StreamDescription {
                    descriptor,
                    source: resolved,
                    partly,
                    problems,
                }
            })
            .collect()
    }
}
