//! Not public API. Used by code that `#[stream]` and `#[derive(Features)]` generate.

pub use inventory;

pub use crate::codec::{Bytes, DecodedAsJson, Json, Optional, Utf8};
pub use crate::features::{
    values_with_capacity, FeatureRow, FeatureValue, Features, IntoFeatureValue, PrimaryKey,
};
pub use crate::message::{RawMessage, Timestamp};
pub use crate::output::StreamOutput;
pub use crate::registry::StreamDescriptor;
pub use crate::resolver::{
    call_async_with_message, call_async_with_value, call_window_async_with_messages,
    call_window_async_with_values, call_window_with_messages, call_window_with_values,
    call_with_message, call_with_value, check_payload, MessageError, Resolver, ResolverFuture,
};
pub use crate::source::KafkaSource;

/// Generated code asserts a parameter type can be decoded from JSON with this.
pub const fn assert_json_payload<T: crate::codec::JsonPayload>() {}

/// Generated code asserts that a parameter the macro took for the envelope is it, with this:
/// the macro knows types only as written.
pub const fn assert_envelope<T: Envelope>() {}

/// chalk-streams' envelope, [`Message<T>`](crate::Message), and nothing else.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is taken for chalk-streams' envelope `Message<T>`, as it is written",
    label = "not `chalk_streams::Message<T>`",
    note = "a type of your own named `Message` is a payload decoded from JSON when named through a module of its own (`proto::Message<T>`) rather than as `Message<T>` or through `crate::`, `self::` or `super::`; or import it under another name (`use proto::Message as ProtoMessage;`)"
)]
pub trait Envelope {}

impl<T> Envelope for crate::Message<T> {}

/// Generated code asserts the error type of a `Result` output is `Display` with this, at the
/// user's error type, which the resolver-output check alone would not name. (So an error type
/// that is not `Display` is reported twice: there, and at the `Result` as not an output.)
pub const fn assert_output_error<E: crate::output::OutputError>() {}

/// Generated code asserts a return type is a resolver output with this, and records the entity
/// the stream writes with what it returns. Both calls carry the same span and bound, so rustc
/// reports a type that is not an output once.
pub const fn assert_stream_output<T: StreamOutput>() -> crate::output::StreamEntity {
    crate::output::StreamEntity::of::<T>()
}

/// Generated code asserts an async resolver's future can run on the runtime with this.
pub fn assert_send_future<F: std::future::Future + Send + 'static>(_: &F) {}

pub use crate::features::{FromFeatureValue, FromPrimaryKey};
pub use crate::store::StoredFeature;
pub use std::collections::BTreeMap;

/// Generated `from_features` reports a non-`Option` feature that is not stored with this.
pub fn missing_feature(namespace: &str, key: &str, feature: &str) -> String {
    format!("feature `{feature}` of {namespace} `{key}` is not stored")
}

/// Generated `from_features` reports a stored value its field cannot hold with this.
pub fn invalid_feature(namespace: &str, key: &str, feature: &str, error: String) -> String {
    format!("feature `{feature}` of {namespace} `{key}`: {error}")
}

/// Generated `from_features` reports a key its `#[primary]` field cannot hold with this.
pub fn invalid_key(namespace: &str, key: &str, primary: &str, error: String) -> String {
    format!("primary key `{primary}` of {namespace} `{key}`: {error}")
}

/// Generated code checks each window size of `#[stream(window = ...)]` at compile time with
/// this: a malformed size fails constant evaluation with the message below.
pub const fn assert_window_size(size: &str) {
    match crate::duration::parse_duration(size) {
        Ok(d) if d.as_millis() > 0 => {}
        Ok(_) => panic!("a window size must be longer than zero, e.g. \"10m\""),
        Err(_) => panic!(
            "invalid window size: write a Chalk duration such as \"10m\", \"1h\" or \"1h30m\""
        ),
    }
}

/// The `timeout` of `#[stream]`, parsed at compile time: a malformed or zero duration fails
/// constant evaluation, pointing at the literal.
pub const fn resolver_timeout(timeout: &str) -> std::time::Duration {
    match crate::duration::parse_duration(timeout) {
        Ok(d) if d.as_millis() > 0 => d,
        Ok(_) => panic!("a resolver timeout must be longer than zero, e.g. \"5s\""),
        Err(_) => panic!(
            "invalid resolver timeout: write a Chalk duration such as \"500ms\", \"5s\" or \"1m\""
        ),
    }
}

/// Generated code checks each pair of window sizes with this: two sizes that are the same
/// duration written differently (`"60m"` and `"1h"`) would keep two identical windows.
pub const fn assert_distinct_window_sizes(earlier: &str, later: &str) {
    if let (Ok(earlier), Ok(later)) = (
        crate::duration::parse_duration(earlier),
        crate::duration::parse_duration(later),
    ) {
        if earlier.as_nanos() == later.as_nanos() {
            panic!("this window size is the same duration as an earlier one: give each size once");
        }
    }
}

/// Payload schemas for the AsyncAPI document (see `crate::schema`).
pub use crate::schema::{
    bytes_schema, optional_bytes_schema, optional_text_schema, text_schema, Probe, ViaAny,
    ViaJsonSchema,
};
pub use serde_json::Value as JsonValue;
