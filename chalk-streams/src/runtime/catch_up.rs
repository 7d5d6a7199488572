//! A window worker's replay after it is assigned a partition. Commits stay below the first
//! message of every kept window, so a new owner (after a restart or a rebalance) reads those
//! windows' messages again, in batches. Fired after each batch, a window that had ended would
//! store an output of only part of its messages, with the same feature time as its complete
//! output, which it would replace; and judged by a clock that moves on during the replay, a
//! window could expire before its later messages are read again. So until the worker has read
//! what the partition held when it started, lateness and expiry are judged at its start, and
//! no window fires; then the ended ones fire once, whole.

use std::time::Duration;

use rdkafka::consumer::Consumer;

use super::partition::PartitionTask;
use crate::message::Timestamp;

/// How long the partition may have no message ready before the replay counts as read: its
/// last offsets may be transaction markers, which are never delivered.
pub(super) const CATCH_UP_IDLE: Duration = Duration::from_secs(1);

/// How long a worker waits for the partition's end offset before it does without a replay
/// phase.
const END_OFFSET_TIMEOUT: Duration = Duration::from_secs(10);

/// A worker's replay: to the partition's end offset when it started.
#[derive(Debug, Clone, Copy)]
pub(super) struct CatchUp {
    /// The offset after the last message the partition held at the start.
    end: i64,
    /// When the worker started: lateness and expiry are judged at this time until caught up.
    started: Timestamp,
}

impl CatchUp {
    /// The replay of a worker starting at `now`; `None` when the partition is empty, or its end
    /// offset could not be had (logged: windows then fire after each batch of the replay).
    pub(super) async fn begin(task: &PartitionTask, now: Timestamp) -> Option<Self> {
        let consumer = std::sync::Arc::clone(&task.consumer);
        let (topic, partition) = (task.topic.to_string(), task.partition);
        let watermarks = tokio::task::spawn_blocking(move || {
            consumer.fetch_watermarks(&topic, partition, END_OFFSET_TIMEOUT)
        })
        .await;
        match watermarks {
            Ok(Ok((low, high))) => (high > low).then_some(Self {
                end: high,
                started: now,
            }),
            Ok(Err(error)) => {
                tracing::warn!(stream = task.name(), topic = %task.topic, partition = task.partition, %error, "cannot read the partition's end offset: windows the replay finds ended fire after each batch, on part of their messages until it is read");
                None
            }
            Err(_) => None,
        }
    }

    /// The time lateness and expiry are judged at while catching up.
    pub(super) fn judged_at(&self) -> Timestamp {
        self.started
    }

    /// Whether the worker has read to the end, its last handled offset being `last_seen`.
    pub(super) fn reached(&self, last_seen: Option<i64>) -> bool {
        last_seen.is_some_and(|offset| offset + 1 >= self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caught_up_once_the_last_offset_the_partition_held_is_read() {
        let catch_up = CatchUp {
            end: 10,
            started: Timestamp::from_millis(5),
        };
        assert!(!catch_up.reached(None));
        assert!(!catch_up.reached(Some(8)));
        assert!(catch_up.reached(Some(9)));
        assert!(catch_up.reached(Some(12)));
        assert_eq!(catch_up.judged_at(), Timestamp::from_millis(5));
    }
}
