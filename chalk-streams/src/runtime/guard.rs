//! Running generated resolver code: a panic in it becomes the message's failure, in phase
//! `resolver`, instead of ending the partition's worker.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use crate::features::FeatureRow;
use crate::message::RawMessage;
use crate::resolver::{MessageError, Phase, Resolver, ResolverFuture};

/// Runs one resolver on one message, turning a panic into a failure.
pub(crate) async fn resolve(
    resolver: Resolver,
    raw: &RawMessage<'_>,
    rows: &mut Vec<FeatureRow>,
) -> Result<(), MessageError> {
    match resolver {
        Resolver::Sync(call) => guarded(|| call(raw, rows)),
        Resolver::Async(start) => guarded_async(|| start(raw), rows).await,
        Resolver::Window { .. } | Resolver::WindowAsync { .. } => Err(MessageError::new(
            Phase::Resolver,
            "a window resolver cannot run on single messages",
        )),
    }
}

/// Runs generated code, a panic becoming a failure in phase `resolver`.
pub(super) fn guarded<T>(
    call: impl FnOnce() -> Result<T, MessageError>,
) -> Result<T, MessageError> {
    std::panic::catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|panic| Err(panicked(panic)))
}

/// Starts an async resolver and awaits it, a panic in either becoming a failure; appends its rows.
pub(super) async fn guarded_async(
    start: impl FnOnce() -> Result<ResolverFuture, MessageError>,
    rows: &mut Vec<FeatureRow>,
) -> Result<(), MessageError> {
    let future = guarded(start)?;
    let output = AssertUnwindSafe(future)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(panicked(panic)))?;
    rows.extend(output);
    Ok(())
}

fn panicked(panic: Box<dyn std::any::Any + Send>) -> MessageError {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".to_owned());
    MessageError::new(Phase::Resolver, format!("resolver panicked: {text}"))
}
