//! Running generated resolver code: a panic in it becomes the message's failure, in phase
//! `resolver`, instead of ending the partition's worker.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use crate::features::FeatureRow;
use crate::message::RawMessage;
use crate::resolver::{panic_text, MessageError, Phase, Resolver, ResolverFuture};

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
pub(crate) fn guarded<T>(
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
    MessageError::new(
        Phase::Resolver,
        format!("resolver panicked: {}", panic_text(panic.as_ref())),
    )
}
