//! The type-erased form of a resolver that `#[stream]` generates, and how a message fails.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::codec::Decode;
use crate::features::FeatureRow;
use crate::message::{Message, RawMessage, Timestamp};
use crate::output::StreamOutput;

/// Where in a message's path processing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The payload did not decode.
    Parse,
    /// The resolver returned `Err` or panicked.
    Resolver,
    /// The outputs could not be written to the feature store.
    Store,
}

impl Phase {
    /// The phase's name as it appears in logs and dead-letter headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Parse => "parse",
            Phase::Resolver => "resolver",
            Phase::Store => "store",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one message failed: its phase and the error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{phase} failed: {message}")]
pub struct MessageError {
    /// Where it failed.
    pub phase: Phase,
    /// The error text.
    pub message: String,
}

impl MessageError {
    /// A failure in `phase` with the given text.
    pub fn new(phase: Phase, message: impl Into<String>) -> Self {
        Self {
            phase,
            message: message.into(),
        }
    }
}

/// The future an async resolver returns once its input is decoded.
pub type ResolverFuture =
    Pin<Box<dyn Future<Output = Result<Vec<FeatureRow>, MessageError>> + Send>>;

/// Checks that a message decodes, so a window never holds one that would fail at firing.
pub type CheckFn = fn(&RawMessage<'_>) -> Result<(), MessageError>;

/// Runs a sync window resolver over a window's messages, stamping rows with the window's end.
pub type FireFn =
    fn(&[RawMessage<'_>], Timestamp, &mut Vec<FeatureRow>) -> Result<(), MessageError>;

/// Starts an async window resolver over a window's messages.
pub type FireAsyncFn = fn(&[RawMessage<'_>], Timestamp) -> Result<ResolverFuture, MessageError>;

/// A resolver as the runtime calls it: decode, run the user's function, collect its rows.
#[derive(Clone, Copy)]
pub enum Resolver {
    /// A plain `fn`: appends the message's rows to the buffer.
    Sync(fn(&RawMessage<'_>, &mut Vec<FeatureRow>) -> Result<(), MessageError>),
    /// An `async fn`: decodes now, then returns the future computing the rows.
    Async(fn(&RawMessage<'_>) -> Result<ResolverFuture, MessageError>),
    /// A window resolver (`fn`): all messages of one key in one window, in offset order; rows
    /// are stamped with the window's end.
    Window {
        /// Run on each message as it arrives.
        check: CheckFn,
        /// Run when the window fires.
        fire: FireFn,
    },
    /// A window resolver (`async fn`).
    WindowAsync {
        /// Run on each message as it arrives.
        check: CheckFn,
        /// Run when the window fires: decodes, then returns the future computing the rows.
        fire: FireAsyncFn,
    },
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resolver::Sync(_) => "Resolver::Sync",
            Resolver::Async(_) => "Resolver::Async",
            Resolver::Window { .. } => "Resolver::Window",
            Resolver::WindowAsync { .. } => "Resolver::WindowAsync",
        })
    }
}

fn feature_time(raw: &RawMessage<'_>) -> Timestamp {
    raw.timestamp.unwrap_or_else(Timestamp::now)
}

/// Decodes the payload. A panic in a `Deserialize` impl (a `deserialize_with` that unwraps, a
/// third-party type) fails the message in phase `parse`, like any other undecodable payload.
fn decode<D: Decode>(raw: &RawMessage<'_>) -> Result<D::Output, MessageError> {
    let payload = raw.payload;
    match crate::caught::catch(move || D::decode(payload)) {
        Ok(decoded) => decoded.map_err(|e| MessageError::new(Phase::Parse, e.to_string())),
        Err(panic) => Err(MessageError::new(
            Phase::Parse,
            format!("decoding panicked: {panic}"),
        )),
    }
}

fn collect<O: StreamOutput>(
    output: O,
    time: Timestamp,
    rows: &mut Vec<FeatureRow>,
) -> Result<(), MessageError> {
    output
        .into_rows(time, rows)
        .map_err(|e| MessageError::new(Phase::Resolver, e))
}

/// Runs a sync resolver that takes the decoded value.
pub fn call_with_value<D: Decode, O: StreamOutput>(
    raw: &RawMessage<'_>,
    rows: &mut Vec<FeatureRow>,
    resolver: impl FnOnce(D::Output) -> O,
) -> Result<(), MessageError> {
    let value = decode::<D>(raw)?;
    collect(resolver(value), feature_time(raw), rows)
}

/// Runs a sync resolver that takes a [`Message`].
pub fn call_with_message<D: Decode, O: StreamOutput>(
    raw: &RawMessage<'_>,
    rows: &mut Vec<FeatureRow>,
    resolver: impl FnOnce(Message<D::Output>) -> O,
) -> Result<(), MessageError> {
    let value = decode::<D>(raw)?;
    collect(resolver(raw.envelope(value)), feature_time(raw), rows)
}

fn boxed<O: StreamOutput>(
    future: impl Future<Output = O> + Send + 'static,
    time: Timestamp,
) -> ResolverFuture {
    Box::pin(async move {
        let mut rows = Vec::new();
        collect(future.await, time, &mut rows)?;
        Ok(rows)
    })
}

/// Starts an async resolver that takes the decoded value.
pub fn call_async_with_value<D: Decode, O: StreamOutput, F>(
    raw: &RawMessage<'_>,
    resolver: impl FnOnce(D::Output) -> F,
) -> Result<ResolverFuture, MessageError>
where
    F: Future<Output = O> + Send + 'static,
{
    let value = decode::<D>(raw)?;
    Ok(boxed(resolver(value), feature_time(raw)))
}

/// Starts an async resolver that takes a [`Message`].
pub fn call_async_with_message<D: Decode, O: StreamOutput, F>(
    raw: &RawMessage<'_>,
    resolver: impl FnOnce(Message<D::Output>) -> F,
) -> Result<ResolverFuture, MessageError>
where
    F: Future<Output = O> + Send + 'static,
{
    let value = decode::<D>(raw)?;
    Ok(boxed(resolver(raw.envelope(value)), feature_time(raw)))
}

/// Checks that a message decodes (window streams decode again when the window fires).
pub fn check_payload<D: Decode>(raw: &RawMessage<'_>) -> Result<(), MessageError> {
    decode::<D>(raw).map(drop)
}

fn decode_all<D: Decode>(raws: &[RawMessage<'_>]) -> Result<Vec<D::Output>, MessageError> {
    raws.iter().map(decode::<D>).collect()
}

fn envelopes<D: Decode>(raws: &[RawMessage<'_>]) -> Result<Vec<Message<D::Output>>, MessageError> {
    raws.iter()
        .map(|raw| decode::<D>(raw).map(|value| raw.envelope(value)))
        .collect()
}

/// Runs a sync window resolver that takes the decoded values.
pub fn call_window_with_values<D: Decode, O: StreamOutput>(
    raws: &[RawMessage<'_>],
    window_end: Timestamp,
    rows: &mut Vec<FeatureRow>,
    resolver: impl FnOnce(Vec<D::Output>) -> O,
) -> Result<(), MessageError> {
    let values = decode_all::<D>(raws)?;
    collect(resolver(values), window_end, rows)
}

/// Runs a sync window resolver that takes [`Message`]s.
pub fn call_window_with_messages<D: Decode, O: StreamOutput>(
    raws: &[RawMessage<'_>],
    window_end: Timestamp,
    rows: &mut Vec<FeatureRow>,
    resolver: impl FnOnce(Vec<Message<D::Output>>) -> O,
) -> Result<(), MessageError> {
    let messages = envelopes::<D>(raws)?;
    collect(resolver(messages), window_end, rows)
}

/// Starts an async window resolver that takes the decoded values.
pub fn call_window_async_with_values<D: Decode, O: StreamOutput, F>(
    raws: &[RawMessage<'_>],
    window_end: Timestamp,
    resolver: impl FnOnce(Vec<D::Output>) -> F,
) -> Result<ResolverFuture, MessageError>
where
    F: Future<Output = O> + Send + 'static,
{
    let values = decode_all::<D>(raws)?;
    Ok(boxed(resolver(values), window_end))
}

/// Starts an async window resolver that takes [`Message`]s.
pub fn call_window_async_with_messages<D: Decode, O: StreamOutput, F>(
    raws: &[RawMessage<'_>],
    window_end: Timestamp,
    resolver: impl FnOnce(Vec<Message<D::Output>>) -> F,
) -> Result<ResolverFuture, MessageError>
where
    F: Future<Output = O> + Send + 'static,
{
    let messages = envelopes::<D>(raws)?;
    Ok(boxed(resolver(messages), window_end))
}
