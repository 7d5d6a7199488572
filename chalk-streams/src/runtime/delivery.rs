//! Where a partition worker's results go: the batch's rows to the feature store, failed
//! messages to the dead-letter topic. Both wait out a dependency that is down, so nothing is
//! committed past work that is not written. A failed message is committed past once it is
//! dead-lettered, or, without a dead-letter topic (or when the topic refuses it for good),
//! once it is logged and counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::dlq::SendError;
use backon::{ExponentialBuilder, Retryable};

use super::partition::{PartitionTask, Resolved};
use super::stats::StreamStats;
use crate::features::FeatureRow;
use crate::message::RawMessage;
use crate::resolver::{MessageError, Phase};
use crate::store::{StoreError, WriteTicket};

/// Back-off for a dependency that is down (store, dead-letter topic): retried until it is back.
fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(30))
        .with_jitter()
        .without_max_times()
}

impl PartitionTask {
    /// Writes the batch's rows, waiting out an unavailable store. If the store rejects the
    /// batch, each message is written alone and those rejected fail in phase `store`.
    pub(super) async fn write_rows(&self, resolved: &mut Resolved) {
        let Resolved {
            rows,
            spans,
            written,
            failures,
            counts,
            ticket,
        } = resolved;
        match self.write_batch_behind(rows).await {
            Ok(accepted) => {
                *ticket = accepted;
                written.extend(spans.iter().map(|span| span.timestamp));
                counts.rows_written = rows.len() as u64;
            }
            Err(rejected) => {
                tracing::info!(stream = self.name(), partition = self.partition, error = %rejected, "store rejected a batch; writing its messages one by one");
                for span in spans.iter() {
                    match self.write_with_retry(&rows[span.rows.clone()]).await {
                        Ok(()) => {
                            written.push(span.timestamp);
                            counts.rows_written += span.rows.len() as u64;
                        }
                        Err(error) => failures.push((
                            span.index,
                            MessageError::new(Phase::Store, error.to_string()),
                        )),
                    }
                }
                failures.sort_by_key(|(index, _)| *index);
            }
        }
        counts.processed = written.len() as u64;
    }

    /// Writes rows that are not needed once written, retrying while the store is unavailable.
    /// The first attempt lets the store take the rows' contents; retries write by reference.
    /// Returns a rejection, with the rows as they were.
    pub(super) async fn write_batch(&self, rows: &mut [FeatureRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let first = self.shared.store.write_taking(rows).await;
        self.retry_unavailable(rows, first.map(|()| WriteTicket::DURABLE))
            .await
            .map(drop)
    }

    /// Hands rows to the store to be written behind (see
    /// [`FeatureStore::write_behind`](crate::store::FeatureStore::write_behind)), retrying
    /// durably while the store is unavailable. Returns the rows' ticket, or a rejection with
    /// the rows as they were.
    async fn write_batch_behind(&self, rows: &mut [FeatureRow]) -> Result<WriteTicket, StoreError> {
        // A store that writes behind is asked even for no rows: its ticket then covers what
        // it accepted before, which may include rows of these messages from the partition's
        // previous worker, not yet durable.
        if rows.is_empty() && self.shared.store.durable_mark().is_none() {
            return Ok(WriteTicket::DURABLE);
        }
        let first = self.shared.store.write_behind(rows).await;
        self.retry_unavailable(rows, first).await
    }

    /// After a first attempt at writing `rows`: retries them while the store is unavailable.
    async fn retry_unavailable(
        &self,
        rows: &[FeatureRow],
        first: Result<WriteTicket, StoreError>,
    ) -> Result<WriteTicket, StoreError> {
        match first {
            Err(StoreError::Unavailable(error)) => {
                let waiting = Waiting::new(&self.shared.stats);
                self.store_write_failed(&StoreError::Unavailable(error), Duration::ZERO, &waiting);
                self.retry_writes(rows, &waiting)
                    .await
                    .map(|()| WriteTicket::DURABLE)
            }
            written => written,
        }
    }

    /// Writes rows, retrying while the store is unavailable. Returns a rejection.
    pub(super) async fn write_with_retry(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.retry_writes(rows, &Waiting::new(&self.shared.stats))
            .await
    }

    async fn retry_writes(
        &self,
        rows: &[FeatureRow],
        waiting: &Waiting<'_>,
    ) -> Result<(), StoreError> {
        let store = &self.shared.store;
        (|| store.write(rows))
            .retry(backoff())
            .when(|e| matches!(e, StoreError::Unavailable(_)))
            .notify(|error, delay| self.store_write_failed(error, delay, waiting))
            .await
    }

    fn store_write_failed(&self, error: &StoreError, retry_in: Duration, waiting: &Waiting<'_>) {
        waiting.begin();
        self.shared.stats.record_retry();
        tracing::warn!(
            stream = self.name(),
            topic = %self.topic,
            partition = self.partition,
            %error,
            ?retry_in,
            "feature store write failed; the partition waits, nothing is committed past it"
        );
    }

    /// Sends a failed message to the dead-letter topic, waiting out a broker that is down.
    /// Returns whether it was dead-lettered (false when the source has no dead-letter topic).
    pub(super) async fn dead_letter(&self, raw: &RawMessage<'_>, error: &MessageError) -> bool {
        let Some(dlq) = &self.shared.dlq else {
            return false;
        };
        let waiting = Waiting::new(&self.shared.stats);
        let sent = (|| dlq.send(raw, error))
            .retry(backoff())
            .when(|error| matches!(error, SendError::Transient(_)))
            .notify(|send_error: &SendError, delay| {
                waiting.begin();
                self.shared.stats.record_retry();
                tracing::warn!(
                    stream = self.name(),
                    dead_letter_topic = dlq.topic(),
                    topic = %self.topic,
                    partition = self.partition,
                    offset = raw.offset,
                    phase = error.phase.as_str(),
                    error = %send_error,
                    retry_in = ?delay,
                    "dead-letter write failed; the partition waits, nothing is committed past it"
                );
            })
            .await;
        match sent {
            Ok(()) => true,
            // Waiting cannot help, and stopping the partition for one message would stop the
            // stream: the message is skipped, and says where it still is.
            Err(refused) => {
                tracing::error!(
                    stream = self.name(),
                    dead_letter_topic = dlq.topic(),
                    topic = %self.topic,
                    partition = self.partition,
                    offset = raw.offset,
                    error = %refused,
                    "the dead-letter topic refuses this failed message; it is skipped and stays \
                     in its source topic at this offset"
                );
                false
            }
        }
    }
}

/// Counts a partition in [`waiting_partitions`](super::StatsSnapshot::waiting_partitions) from
/// its first failed attempt at a write until the write ends, or the worker is dropped while it
/// waits (its partition revoked).
struct Waiting<'a> {
    stats: &'a StreamStats,
    counted: AtomicBool,
}

impl<'a> Waiting<'a> {
    fn new(stats: &'a StreamStats) -> Self {
        Self {
            stats,
            counted: AtomicBool::new(false),
        }
    }

    /// Counts the partition as waiting, once.
    fn begin(&self) {
        if !self.counted.swap(true, Ordering::Relaxed) {
            self.stats.record_waiting(true);
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if *self.counted.get_mut() {
            self.stats.record_waiting(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(stats: &StreamStats) -> u64 {
        stats.snapshot().waiting_partitions
    }

    #[test]
    fn a_partition_counts_as_waiting_once_from_its_first_retry_until_the_write_ends() {
        let stats = StreamStats::default();
        let first = Waiting::new(&stats);
        assert_eq!(waiting(&stats), 0, "a write that has not failed yet");
        first.begin();
        first.begin();
        assert_eq!(waiting(&stats), 1, "counted once however often it retries");
        let second = Waiting::new(&stats);
        second.begin();
        assert_eq!(waiting(&stats), 2);
        drop(first);
        assert_eq!(
            waiting(&stats),
            1,
            "a write that ended, or a worker dropped"
        );
        drop(second);
        drop(Waiting::new(&stats));
        assert_eq!(
            waiting(&stats),
            0,
            "a write that never failed uncounts nothing"
        );
    }
}
