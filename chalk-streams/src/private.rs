//! Not public API. Used by code that `#[stream]` and `#[derive(Features)]` generate.

pub use inventory;

pub use crate::codec::{Bytes, Json, Utf8};
pub use crate::features::{FeatureRow, FeatureValue, Features, IntoFeatureValue, PrimaryKey};
pub use crate::message::{RawMessage, Timestamp};
pub use crate::output::StreamOutput;
pub use crate::registry::StreamDescriptor;
pub use crate::resolver::{
    call_async_with_message, call_async_with_value, call_with_message, call_with_value,
    MessageError, Resolver, ResolverFuture,
};
pub use crate::source::KafkaSource;

/// Generated code asserts a parameter type can be decoded from JSON with this.
pub const fn assert_json_payload<T: crate::codec::JsonPayload>() {}

/// Generated code asserts a return type is a resolver output with this.
pub const fn assert_stream_output<T: StreamOutput>() {}

/// Generated code asserts an async resolver's future can run on the runtime with this.
pub fn assert_send_future<F: std::future::Future + Send + 'static>(_: &F) {}
