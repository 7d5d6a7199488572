//! One partition's worker: receive a batch, resolve each message, write the batch, store the
//! offset. Messages of a partition are handled in order; partitions run in parallel.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures::FutureExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message as _};
use tokio::sync::watch;

use super::context::StreamContext;
use super::log_limit::LogLimiter;
use super::offsets::OffsetTracker;
use super::stats::StatsSnapshot;
use super::StreamShared;
use crate::features::FeatureRow;
use crate::message::{RawHeaders, RawMessage, Timestamp};
use crate::resolver::{MessageError, Phase, Resolver};

/// The consumer type every stream uses.
pub(crate) type KafkaConsumer = StreamConsumer<StreamContext>;

/// The most messages taken from a partition's queue before writing them as one batch.
const MAX_BATCH: usize = 1024;

/// What a worker needs for one assigned partition.
pub(crate) struct PartitionTask {
    pub shared: Arc<StreamShared>,
    pub consumer: Arc<KafkaConsumer>,
    pub queue: rdkafka::consumer::stream_consumer::StreamPartitionQueue<StreamContext>,
    pub topic: Arc<str>,
    pub partition: i32,
    pub stop: watch::Receiver<bool>,
}

impl PartitionTask {
    /// Runs until told to stop. The batch in hand when the stop arrives is finished first.
    pub async fn run(mut self) {
        let mut tracker = OffsetTracker::new();
        let mut rows = Vec::new();
        let mut failures = LogLimiter::new(Duration::from_secs(10), 10);
        let queue = &self.queue;
        loop {
            let first = tokio::select! {
                biased;
                _ = self.stop.changed() => break,
                message = queue.recv() => message,
            };
            let mut batch = Vec::with_capacity(64);
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match queue.recv().now_or_never() {
                    Some(message) => batch.push(message),
                    None => break,
                }
            }
            self.handle_batch(&batch, &mut rows, &mut tracker, &mut failures)
                .await;
            drop(batch);
            if *self.stop.borrow() {
                break;
            }
        }
        tracing::debug!(stream = self.shared.descriptor.name(), topic = %self.topic, partition = self.partition, "partition worker stopped");
    }

    async fn handle_batch(
        &self,
        batch: &[Result<BorrowedMessage<'_>, KafkaError>],
        rows: &mut Vec<FeatureRow>,
        tracker: &mut OffsetTracker,
        failures: &mut LogLimiter,
    ) {
        let shared = &self.shared;
        let now = Timestamp::now();
        let mut counts = StatsSnapshot::default();
        let mut offsets = Vec::with_capacity(batch.len());
        rows.clear();
        for message in batch {
            let message = match message {
                Ok(message) => message,
                Err(error) => {
                    tracing::warn!(stream = shared.descriptor.name(), topic = %self.topic, partition = self.partition, %error, "error from the partition queue");
                    continue;
                }
            };
            let offset = message.offset();
            tracker.track(offset);
            offsets.push(offset);
            let timestamp = message.timestamp().to_millis().map(Timestamp::from_millis);
            if let Some(ts) = timestamp {
                if shared.deadline.is_exceeded_by(ts.age_at(now)) {
                    counts.skipped_late += 1;
                    continue;
                }
            }
            let raw = RawMessage {
                payload: message.payload(),
                key: message.key(),
                topic: &self.topic,
                partition: self.partition,
                offset,
                timestamp,
                headers: message
                    .headers()
                    .map_or(RawHeaders::None, RawHeaders::Kafka),
            };
            let before = rows.len();
            match resolve(shared.descriptor.resolver(), &raw, rows).await {
                Ok(()) => counts.processed += 1,
                Err(error) => {
                    rows.truncate(before);
                    counts.failed += 1;
                    if let Some(suppressed) = failures.allow() {
                        tracing::warn!(
                            stream = shared.descriptor.name(),
                            topic = %self.topic,
                            partition = self.partition,
                            offset,
                            phase = %error.phase,
                            error = %error.message,
                            suppressed,
                            "message failed; skipping it"
                        );
                    }
                }
            }
        }
        if !rows.is_empty() {
            self.write_rows(rows).await;
        }
        counts.rows_written = rows.len() as u64;
        for offset in offsets {
            tracker.complete(offset);
        }
        if let Some(offset) = tracker.advance() {
            if let Err(error) = self
                .consumer
                .store_offset(&self.topic, self.partition, offset)
            {
                // Happens when the partition was revoked meanwhile: the next owner reprocesses.
                tracing::debug!(stream = shared.descriptor.name(), topic = %self.topic, partition = self.partition, offset, %error, "could not store offset");
            }
        }
        shared.stats.record(counts);
    }

    /// Writes the batch, retrying with capped exponential back-off until the store accepts it.
    /// Nothing after these messages is committed meanwhile: the partition waits.
    async fn write_rows(&self, rows: &[FeatureRow]) {
        let store = &self.shared.store;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(50))
            .with_max_delay(Duration::from_secs(30))
            .with_jitter()
            .without_max_times();
        let result = (|| store.write(rows))
            .retry(backoff)
            .notify(|error, delay| {
                tracing::warn!(
                    stream = self.shared.descriptor.name(),
                    topic = %self.topic,
                    partition = self.partition,
                    %error,
                    retry_in = ?delay,
                    "feature store write failed; partition waits, nothing is committed past it"
                );
            })
            .await;
        if let Err(error) = result {
            // Unreachable with unbounded retries; kept so a change of policy cannot lose data.
            tracing::error!(stream = self.shared.descriptor.name(), %error, "giving up on store write");
        }
    }
}

/// Runs one resolver on one message, turning a panic into a failure.
async fn resolve(
    resolver: Resolver,
    raw: &RawMessage<'_>,
    rows: &mut Vec<FeatureRow>,
) -> Result<(), MessageError> {
    match resolver {
        Resolver::Sync(call) => std::panic::catch_unwind(AssertUnwindSafe(|| call(raw, rows)))
            .unwrap_or_else(|panic| Err(panicked(panic))),
        Resolver::Async(start) => {
            let future = std::panic::catch_unwind(AssertUnwindSafe(|| start(raw)))
                .unwrap_or_else(|panic| Err(panicked(panic)))?;
            let output = AssertUnwindSafe(future)
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Err(panicked(panic)))?;
            rows.extend(output);
            Ok(())
        }
    }
}

fn panicked(panic: Box<dyn std::any::Any + Send>) -> MessageError {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".to_owned());
    MessageError::new(Phase::Resolver, format!("resolver panicked: {text}"))
}
