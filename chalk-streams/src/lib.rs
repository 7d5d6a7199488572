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

/// The `schemars` whose `JsonSchema` a payload type derives for `asyncapi` to describe it:
/// a type deriving another major version's is described as any JSON. To be sure of the
/// version, derive through this one: `#[derive(chalk_streams::schemars::JsonSchema)]` with
/// `#[schemars(crate = "chalk_streams::schemars")]`.
pub use schemars;

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
