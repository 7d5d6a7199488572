//! The errors chalk-streams returns to applications.

use std::fmt;

use crate::registry::RegistryError;
use crate::source::SourceError;
use crate::store::StoreError;

/// `Result` with chalk-streams' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem with one stream's source, found at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The stream whose source is at fault.
    pub stream: String,
    /// The source's integration name, for named sources.
    pub source_name: Option<String>,
    /// What is wrong and how to fix it.
    pub error: SourceError,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream `{}`", self.stream)?;
        if let Some(name) = &self.source_name {
            write!(f, " (source `{name}`)")?;
        }
        write!(f, ": {}", self.error)
    }
}

/// Everything that can stop chalk-streams from running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The set of declared streams is unusable.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// One or more sources are misconfigured; every problem is listed, one per line.
    #[error("{}", ConfigProblems(.0))]
    Config(Vec<ConfigProblem>),
    /// A property given to `Runtime::kafka_property` that chalk-streams keeps to itself.
    #[error("`{key}` cannot be set with kafka_property: {why}")]
    ManagedProperty {
        /// The property.
        key: String,
        /// Why chalk-streams keeps it.
        why: &'static str,
    },
    /// librdkafka refused a stream's client configuration.
    #[error("stream `{stream}`: the Kafka client rejected its configuration: {source}")]
    Client {
        /// The stream.
        stream: String,
        /// librdkafka's error.
        source: rdkafka::error::KafkaError,
    },
    /// The in-process Kafka cluster could not be started or used, or an embedded run could not
    /// process its samples.
    #[error("embedded run: {0}")]
    Embedded(String),
    /// The feature store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An I/O error, e.g. reading an input file or starting a thread.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// What was asked for does not exist (e.g. `get` of an unknown entity).
    #[error("{0}")]
    NotFound(String),
    /// The feature store configuration is not understood.
    #[error(transparent)]
    StoreConfig(#[from] crate::store::StoreConfigError),
    /// Streams did not stop within the shutdown deadline.
    #[error("streams did not shut down within {timeout:?}: {}", .streams.join(", "))]
    ShutdownTimeout {
        /// The shutdown timeout.
        timeout: std::time::Duration,
        /// The streams still stopping then.
        streams: Vec<String>,
    },
    /// Streams whose brokers cannot be used (a failed login, a refused configuration) or, for
    /// `check`, whose topics are missing: one problem per line, each naming its stream.
    #[error("{}", match .0.as_slice() {
        [one] => one.clone(),
        many => format!("{} problems:\n  - {}", many.len(), many.join("\n  - ")),
    })]
    Check(Vec<String>),
    /// `push` was given no `--bootstrap` and no registered stream reads the topic.
    #[error("no broker known for topic `{0}`: no registered stream reads it; pass --bootstrap HOST:PORT")]
    NoBroker(String),
    /// `dlq replay` was asked for a stream whose source has no dead-letter topic.
    #[error(
        "stream `{stream}` has no dead-letter topic; set dead_letter_queue_topic on its source, \
         or {variable}"
    )]
    NoDeadLetterQueue {
        /// The stream.
        stream: String,
        /// The environment variable its source reads the topic from.
        variable: String,
    },
    /// A Kafka client of a command (`push`, `dlq replay`) failed: what it was doing and why.
    #[error("{0}")]
    Kafka(String),
}

struct ConfigProblems<'a>(&'a [ConfigProblem]);

impl fmt::Display for ConfigProblems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "configuration problem: {one}"),
            many => {
                write!(f, "{} configuration problems:", many.len())?;
                for problem in many {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}
