//! The declared streams as far as their sources resolve, for describing them without running.

use super::Runtime;
use crate::error::ConfigProblem;
use crate::registry::StreamDescriptor;
use crate::source::ResolvedSource;

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
