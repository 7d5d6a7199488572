//! Running generated resolver code: a panic in it becomes the message's failure, in phase
//! `resolver`, instead of ending the partition's worker; so does an async resolver that takes
//! longer than its stream's `timeout`.

use std::time::Duration;

use crate::caught::{catch, catch_async, Panic};
use crate::features::FeatureRow;
use crate::message::RawMessage;
use crate::resolver::{MessageError, Phase, Resolver, ResolverFuture};

/// Runs one resolver on one message, turning a panic (or an async resolver's `timeout`) into a
/// failure.
pub(crate) async fn resolve(
    resolver: Resolver,
    timeout: Option<Duration>,
    raw: &RawMessage<'_>,
    rows: &mut Vec<FeatureRow>,
) -> Result<(), MessageError> {
    match resolver {
        Resolver::Sync(call) => guarded(|| call(raw, rows)),
        Resolver::Async(start) => guarded_async(|| start(raw), timeout, rows).await,
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
    catch(call).unwrap_or_else(|panic| Err(panicked(&panic)))
}

/// Starts an async resolver and awaits it, for at most `timeout`; a panic in either, or the
/// timeout, becomes a failure (the resolver's future is then dropped). Appends its rows.
pub(super) async fn guarded_async(
    start: impl FnOnce() -> Result<ResolverFuture, MessageError>,
    timeout: Option<Duration>,
    rows: &mut Vec<FeatureRow>,
) -> Result<(), MessageError> {
    let mut future = guarded(start)?;
    let finished = match timeout {
        Some(limit) => {
            let finished = tokio::time::timeout(limit, catch_async(&mut future)).await;
            if finished.is_err() {
                // Dropped unfinished, the future drops what it holds across its awaits: a panic
                // there (a guard that asserts) is this message's failure too.
                let _ = catch(move || drop(future));
            }
            finished.map_err(|_| timed_out(limit))?
        }
        None => catch_async(&mut future).await,
    };
    rows.extend(finished.unwrap_or_else(|panic| Err(panicked(&panic)))?);
    Ok(())
}

fn timed_out(limit: Duration) -> MessageError {
    MessageError::new(
        Phase::Resolver,
        format!(
            "resolver did not finish within its timeout of {}",
            humantime::format_duration(limit)
        ),
    )
}

fn panicked(panic: &Panic) -> MessageError {
    MessageError::new(Phase::Resolver, format!("resolver panicked: {panic}"))
}
