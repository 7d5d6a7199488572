#![doc = include_str!("../../README.md")]

pub mod codec;
pub mod duration;
pub mod features;
pub mod message;
pub mod output;
pub mod registry;
pub mod resolver;
pub mod source;
mod suggest;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use chalk_streams_macros::{stream, Features};
pub use duration::LateArrivalDeadline;
pub use features::{FeatureRow, FeatureValue, Features};
pub use message::{Headers, Message, Timestamp};
pub use source::{KafkaSource, SaslMechanism, SecurityProtocol};

// Lets `::chalk_streams::...` paths in generated code resolve inside this crate's own tests.
extern crate self as chalk_streams;

/// Everything a stream application usually needs: `use chalk_streams::prelude::*;`.
pub mod prelude {
    pub use crate::duration::LateArrivalDeadline;
    pub use crate::features::Features;
    pub use crate::message::{Headers, Message, Timestamp};
    pub use crate::source::{KafkaSource, SaslMechanism, SecurityProtocol};
    pub use chalk_streams_macros::{stream, Features};
    pub use std::time::Duration;
}
