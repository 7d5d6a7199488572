#![doc = include_str!("../../README.md")]

pub mod asyncapi;
mod caught;
pub mod cli;
pub mod codec;
pub mod dlq;
pub mod duration;
mod error;
pub mod features;
mod kafka_headers;
pub mod message;
pub mod observe;
pub mod output;
mod probe;
pub mod registry;
pub mod resolver;
pub mod runtime;
pub mod schema;
pub mod source;
pub mod store;
mod suggest;
pub mod testing;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use chalk_streams_macros::{stream, Features};
pub use cli::App;
pub use duration::LateArrivalDeadline;
pub use error::{ConfigProblem, Error, Result};
pub use features::{FeatureRow, FeatureValue, Features};
pub use message::{Headers, Message, Timestamp};
pub use runtime::{RunningStreams, Runtime};
pub use source::{KafkaSource, SaslMechanism, SecurityProtocol};

/// Everything a stream application usually needs: `use chalk_streams::prelude::*;`.
pub mod prelude {
    pub use crate::duration::LateArrivalDeadline;
    pub use crate::features::Features;
    pub use crate::message::{Headers, Message, Timestamp};
    pub use crate::source::{KafkaSource, SaslMechanism, SecurityProtocol};
    pub use crate::store::FeatureStoreExt;
    pub use chalk_streams_macros::{stream, Features};
    pub use std::time::Duration;
}

/// Runs the command line (`run`, `list`, `get`, `check`, `push`, `dlq replay`, `asyncapi`) over
/// every `#[stream]` in the program.
///
/// ```no_run
/// fn main() -> chalk_streams::Result<()> {
///     chalk_streams::main()
/// }
/// ```
pub fn main() -> Result<()> {
    App::new().main()
}

// Lets `::chalk_streams::...` paths in generated code resolve inside this crate's own tests.
extern crate self as chalk_streams;
