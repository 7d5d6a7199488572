//! One partition's worker: receive a batch, resolve each message, write the batch's rows,
//! dead-letter its failures, then store the offset. Messages of a partition are handled in
//! order; partitions run in parallel.

use std::ops::Range;
use std::sync::Arc;

use futures::StreamExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use tokio::sync::watch;
use tracing::Instrument;

use super::context::{StreamContext, WorkerEnded};
use super::guard::{guarded, resolve};
use super::latency::LatencyBatch;
use super::lead::too_far_ahead;
use super::log_limit::{until_due, LogLimiter};
use super::offsets::OffsetTracker;
use super::partition_queue::fill_batch;
use super::predecessors::predecessor_ended;
use super::record::KafkaRecord;
use super::stats::StatsSnapshot;
use super::unconfirmed::UnconfirmedOffsets;
use super::window_resolver::WindowResolver;
use super::StreamShared;
use crate::features::{recycle, FeatureRow};
use crate::message::{RawMessage, Timestamp};
use crate::resolver::{MessageError, Resolver};
use crate::store::WriteTicket;

/// The consumer type every stream uses.
pub(crate) type KafkaConsumer = StreamConsumer<StreamContext>;

/// The most messages taken from a partition's queue before writing them as one batch.
pub(super) const MAX_BATCH: usize = 1024;

/// What a worker needs for one assigned partition.
pub(crate) struct PartitionTask {
    pub shared: Arc<StreamShared>,
    pub consumer: Arc<KafkaConsumer>,
    /// This worker's handle on the partition's queue; `None` only while it is renewed.
    pub queue: Option<rdkafka::consumer::stream_consumer::StreamPartitionQueue<StreamContext>>,
    /// Earlier workers of this partition, aborted after a drain timeout and maybe still running:
    /// each resolves when its worker has ended, after dropping its own handle on the queue.
    /// Dropping a handle switches off the queue's wake-up, this worker's included, so the
    /// worker then takes a new handle (see [`renew_queue`](Self::renew_queue)).
    pub predecessors: Vec<WorkerEnded>,
    pub topic: Arc<str>,
    pub partition: i32,
    pub stop: watch::Receiver<bool>,
    /// The first offset this process has not processed yet, if it owned the partition before.
    /// Messages below it were processed here (their outputs are stored) but their commit may have
    /// been refused during a rebalance; they are passed over, not processed twice.
    pub resume_from: Option<i64>,
    /// The epoch of the partition's slot for a window stream's offsets (`WindowMarks::open`).
    pub mark_epoch: u64,
    /// The worker's state, shared with its panic guard and the revocation (`context`).
    pub state: Arc<std::sync::atomic::AtomicU8>,
    /// Messages that reached the consumer's main queue before this partition's queue was
    /// split, and the signal that all of them have been handed over.
    pub handoff: Handoff,
}

/// How a new partition worker receives the messages fetched before its queue was split.
pub(crate) struct Handoff {
    /// Fires once every early message is in `early`.
    pub go: tokio::sync::oneshot::Receiver<()>,
    /// The early messages, oldest first.
    pub early: tokio::sync::mpsc::UnboundedReceiver<OwnedMessage>,
}

/// The outcome of resolving one batch, before anything is written. One per worker, cleared
/// after each batch, so that its buffers are not allocated and freed per batch.
#[derive(Default)]
pub(super) struct Resolved {
    pub(super) rows: Vec<FeatureRow>,
    /// The messages resolved without error, in batch order.
    pub(super) spans: Vec<Span>,
    /// The Kafka timestamps of the messages whose rows were written, one per message.
    pub(super) written: Vec<Option<Timestamp>>,
    /// Messages that failed: (batch index, why).
    pub(super) failures: Vec<(usize, MessageError)>,
    pub(super) counts: StatsSnapshot,
    /// The store's ticket for the rows, durable once its durable mark reaches it.
    pub(super) ticket: WriteTicket,
}

impl Resolved {
    fn clear(&mut self) {
        recycle(&mut self.rows);
        self.spans.clear();
        self.written.clear();
        self.failures.clear();
        self.counts = StatsSnapshot::default();
        self.ticket = WriteTicket::DURABLE;
    }
}

/// A message resolved without error.
pub(super) struct Span {
    /// Where it is in the batch.
    pub(super) index: usize,
    /// Its Kafka timestamp, read once: for the late check, then for latency.
    pub(super) timestamp: Option<Timestamp>,
    /// The rows it produced, in [`Resolved::rows`].
    pub(super) rows: Range<usize>,
}

/// What a partition worker carries from one batch to the next.
struct Progress {
    tracker: OffsetTracker,
    /// Failed messages' lines; the partition queue's errors have `queue_log`.
    log: LogLimiter,
    queue_log: LogLimiter,
    resolved: Resolved,
    unconfirmed: UnconfirmedOffsets,
}

impl PartitionTask {
    /// Runs until told to stop. The batch in hand when the stop arrives is finished first.
    pub async fn run(self) {
        match WindowResolver::of(self.shared.descriptor) {
            Some(window) => self.run_windows(window).await,
            None => self.run_mapping().await,
        }
    }

    async fn run_mapping(mut self) {
        let mut progress = Progress {
            tracker: OffsetTracker::new(),
            log: LogLimiter::per_partition(),
            queue_log: LogLimiter::per_partition(),
            resolved: Resolved::default(),
            unconfirmed: UnconfirmedOffsets::new(self.shared.store.durable_mark()),
        };
        let Some(early) = self.await_handoff().await else {
            return;
        };
        if !early.is_empty() {
            self.handle_batch(&early, &mut progress).await;
        }
        let taken = self.taken_queue();
        'queue: while let Some(queue) = &self.queue {
            // One stream per queue handle: each `recv` would register and unregister a waker
            // under a lock, per message.
            let mut messages = queue.stream();
            let mut batch = Vec::new();
            loop {
                let first = tokio::select! {
                    biased;
                    _ = self.stop.changed() => break 'queue,
                    () = predecessor_ended(&mut self.predecessors) => break,
                    () = progress.unconfirmed.moved() => {
                        if self.store_confirmed(&mut progress.unconfirmed) {
                            self.shared.stats.offsets_confirmed();
                        }
                        continue;
                    }
                    () = until_due(progress.log.unlogged_due()) => {
                        self.report_unlogged_failures(&mut progress.log);
                        continue;
                    }
                    message = messages.next() => message,
                };
                fill_batch(
                    &mut batch,
                    first,
                    &mut messages,
                    taken.as_ref(),
                    &self,
                    &mut progress.queue_log,
                );
                if !batch.is_empty() {
                    self.handle_batch(&batch, &mut progress).await;
                }
                batch.clear();
                if *self.stop.borrow() {
                    break 'queue;
                }
            }
            drop(batch);
            drop(messages);
            self.renew_queue();
        }
        self.confirm_all(&mut progress.unconfirmed).await;
        self.report_unlogged_failures(&mut progress.log);
        tracing::debug!(stream = self.name(), topic = %self.topic, partition = self.partition, "partition worker stopped");
    }

    /// Takes a new handle on the partition's queue, after an aborted worker before this one
    /// has ended: dropping its handle switched the queue's wake-up off. This worker's own
    /// handle goes first, as dropping it would switch off the new one's.
    pub(super) fn renew_queue(&mut self) {
        self.queue = None;
        self.queue = self
            .consumer
            .split_partition_queue(&self.topic, self.partition);
        match &self.queue {
            Some(_) => {
                tracing::debug!(stream = self.name(), topic = %self.topic, partition = self.partition, "an aborted earlier worker of this partition ended; its queue handle is renewed")
            }
            None => {
                tracing::error!(stream = self.name(), topic = %self.topic, partition = self.partition, "could not take the partition's queue again: nothing more is read from it until it is assigned again")
            }
        }
    }

    /// Waits until the messages fetched before the split are handed over, and returns them
    /// (oldest first); `None` if told to stop meanwhile.
    pub(super) async fn await_handoff(&mut self) -> Option<Vec<OwnedMessage>> {
        tokio::select! {
            biased;
            _ = self.stop.changed() => return None,
            // A dropped sender means the consumer is closing; the stop signal follows.
            _ = &mut self.handoff.go => {}
        }
        let mut early = Vec::new();
        while let Ok(message) = self.handoff.early.try_recv() {
            early.push(message);
        }
        if !early.is_empty() {
            tracing::debug!(
                stream = self.name(),
                partition = self.partition,
                messages = early.len(),
                "messages fetched before the partition queue was split"
            );
        }
        Some(early)
    }

    pub(super) fn name(&self) -> &'static str {
        self.shared.descriptor.name()
    }

    pub(super) fn raw<'a, M: KafkaRecord>(&'a self, message: &'a M) -> RawMessage<'a> {
        RawMessage {
            payload: message.payload(),
            key: message.key(),
            topic: &self.topic,
            partition: self.partition,
            offset: message.offset(),
            timestamp: message.timestamp(),
            headers: message.raw_headers(),
        }
    }

    async fn handle_batch<M: KafkaRecord>(&self, batch: &[M], progress: &mut Progress) {
        let span = tracing::info_span!("batch", partition = self.partition, size = batch.len());
        self.handle_batch_in_span(batch, progress)
            .instrument(span)
            .await;
    }

    async fn handle_batch_in_span<M: KafkaRecord>(&self, batch: &[M], progress: &mut Progress) {
        let Some(last) = batch.last().map(|message| message.offset()) else {
            return;
        };
        let Progress {
            tracker,
            log,
            resolved,
            unconfirmed,
            ..
        } = progress;
        // A batch is finished as a whole, so its last offset stands for all of it.
        tracker.track(last);
        self.resolve_batch(batch, resolved).await;
        self.write_rows(resolved).await;
        let written_at = self.shared.clock.now();
        let mut latency = LatencyBatch::default();
        for ts in resolved.written.iter().flatten() {
            latency.observe(*ts, written_at);
        }
        resolved.counts.failed = resolved.failures.len() as u64;
        for (index, error) in &resolved.failures {
            let raw = self.raw(&batch[*index]);
            self.report_failure(&raw, error, log);
            if self.dead_letter(&raw, error).await {
                resolved.counts.dead_lettered += 1;
            }
        }
        tracker.complete(last);
        unconfirmed.push(tracker.advance(), resolved.ticket);
        self.store_confirmed(unconfirmed);
        self.shared.stats.record_latency(&latency);
        self.shared.stats.record(resolved.counts);
        resolved.clear();
    }

    /// Hands `offset` (the last processed) to Kafka for commit.
    pub(super) fn store_offset(&self, offset: i64) {
        match self
            .consumer
            .store_offset(&self.topic, self.partition, offset)
        {
            Ok(()) => {
                self.shared
                    .stats
                    .record_stored_offset(&self.topic, self.partition, offset + 1)
            }
            // The partition was revoked meanwhile: its next owner processes it again.
            Err(error) => {
                tracing::debug!(stream = self.name(), topic = %self.topic, partition = self.partition, offset, %error, "could not store offset")
            }
        }
    }

    /// Logs a failed message (rate-limited).
    pub(super) fn report_failure(
        &self,
        raw: &RawMessage<'_>,
        error: &MessageError,
        log: &mut LogLimiter,
    ) {
        if let Some((suppressed, suppressed_offsets)) = log.allow_offset(raw.offset) {
            tracing::warn!(
                stream = self.name(),
                topic = %self.topic,
                partition = self.partition,
                offset = raw.offset,
                phase = %error.phase,
                error = %error.message,
                dead_letter_topic = self.shared.dlq.as_ref().map(|d| d.topic()),
                suppressed,
                suppressed_offsets,
                "message failed"
            );
        }
    }

    /// Logs the failed messages whose lines the rate limit held back since its last line, as
    /// its window ends or the worker stops: otherwise their offsets would wait for a line that
    /// may never come, or go with the limiter.
    pub(super) fn report_unlogged_failures(&self, log: &mut LogLimiter) {
        if let Some((suppressed, suppressed_offsets)) = log.take_unlogged() {
            tracing::warn!(
                stream = self.name(),
                topic = %self.topic,
                partition = self.partition,
                dead_letter_topic = self.shared.dlq.as_ref().map(|d| d.topic()),
                suppressed,
                suppressed_offsets,
                "messages failed that were not logged one by one (rate limit)"
            );
        }
    }

    /// Late check, decode and resolver for every message of the batch.
    async fn resolve_batch<M: KafkaRecord>(&self, batch: &[M], out: &mut Resolved) {
        let now = self.shared.clock.now();
        for (index, message) in batch.iter().enumerate() {
            if self.resume_from.is_some_and(|next| message.offset() < next) {
                continue;
            }
            let raw = self.raw(message);
            if let Some(ts) = raw.timestamp {
                if self.shared.deadline.is_exceeded_by(ts.age_at(now)) {
                    out.counts.skipped_late += 1;
                    continue;
                }
                if let Some(error) = too_far_ahead(ts, now, self.shared.max_timestamp_lead) {
                    out.failures.push((index, error));
                    continue;
                }
            }
            let before = out.rows.len();
            // A sync resolver is called in place, without building a future per message. Its
            // batch still offers an await now and then (when the task's budget runs out), where
            // an abort after a drain timeout takes effect.
            let resolved = match self.shared.descriptor.resolver() {
                Resolver::Sync(call) => {
                    tokio::task::consume_budget().await;
                    guarded(|| call(&raw, &mut out.rows))
                }
                resolver => {
                    let timeout = self.shared.descriptor.timeout();
                    resolve(resolver, timeout, &raw, &mut out.rows).await
                }
            };
            match resolved {
                Ok(()) => out.spans.push(Span {
                    index,
                    timestamp: raw.timestamp,
                    rows: before..out.rows.len(),
                }),
                Err(error) => {
                    out.rows.truncate(before);
                    out.failures.push((index, error));
                }
            }
        }
    }
}
