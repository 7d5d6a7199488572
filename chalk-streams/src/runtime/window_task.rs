//! The partition worker of a window stream: messages go into windows as they arrive; a window
//! fires when the clock passes its end (also when the stream is idle) and fires again when a late
//! message joins it; state is dropped after the retention; offsets are stored only below the first
//! message of any retained window.

use futures::StreamExt;
use tracing::Instrument;

use super::catch_up::{CatchUp, Times, CATCH_UP_IDLE};
use super::guard::guarded;
use super::latency::LatencyBatch;
use super::lead::too_far_ahead_of_windows;
use super::log_limit::{until_due, LogLimiter};
use super::partition::PartitionTask;
use super::partition_queue::fill_batch;
use super::predecessors::predecessor_ended;
use super::record::KafkaRecord;
use super::stats::StatsSnapshot;
use super::window::dead_lettered::{DeadLettered, MessageName};
use super::window::mark::ReadMark;
use super::window::{OwnedRecord, WindowBook};
use super::window_marks::MarkedOffset;
use super::window_resolver::WindowResolver;
use crate::message::{RawMessage, Timestamp};
use crate::resolver::{CheckFn, MessageError};

impl OwnedRecord {
    fn of(raw: &RawMessage<'_>) -> Self {
        Self {
            offset: raw.offset,
            key: raw.key.map(<[u8]>::to_vec),
            payload: raw.payload.map(<[u8]>::to_vec),
            timestamp: raw.timestamp,
            headers: raw.headers.to_owned_headers(),
        }
    }
}

/// This partition's share of the stream's retained-windows gauge. Dropping it takes the share
/// back, also when the worker is aborted (a drain that timed out), which ends it mid-loop.
struct RetainedGauge {
    stats: std::sync::Arc<super::StreamStats>,
    reported: i64,
}

impl RetainedGauge {
    fn set(&mut self, retained: usize) {
        let retained = i64::try_from(retained).unwrap_or(i64::MAX);
        self.stats.record_retained_windows(retained - self.reported);
        self.reported = retained;
    }
}

impl Drop for RetainedGauge {
    fn drop(&mut self) {
        self.stats.record_retained_windows(-self.reported);
    }
}

impl PartitionTask {
    /// Runs a window stream's partition until told to stop.
    pub(super) async fn run_windows(mut self, resolver: WindowResolver) {
        let mut book = WindowBook::for_stream(
            self.shared.descriptor.windows(),
            self.shared.deadline,
            self.shared.window_retention,
        );
        let mut log = LogLimiter::per_partition();
        // The queue's errors and the windows' failures have limiters of their own: their lines
        // would take the count of the failed messages' lines held back.
        let (mut queue_log, mut window_log) =
            (LogLimiter::per_partition(), LogLimiter::per_partition());
        let mut retained = RetainedGauge {
            stats: std::sync::Arc::clone(&self.shared.stats),
            reported: 0,
        };
        let mut stored = None;
        let clock = std::sync::Arc::clone(&self.shared.clock);
        let mut catch_up = CatchUp::begin(&self, clock.now()).await;
        // Named in the marks this worker commits, with those its predecessors named.
        let mut dead = catch_up
            .as_ref()
            .map(CatchUp::dead_lettered)
            .unwrap_or_default();
        let Some(early) = self.await_handoff().await else {
            return;
        };
        if !early.is_empty() {
            let mut counts = StatsSnapshot::default();
            let mut latency = LatencyBatch::default();
            self.ingest(
                &early,
                &mut book,
                resolver.check(),
                Times::at(clock.now(), catch_up.as_ref()),
                (&mut counts, &mut latency),
                (&mut log, &mut dead),
            )
            .instrument(self.batch_span(early.len()))
            .await;
            self.shared.stats.record_latency(&latency);
            self.shared.stats.record(counts);
        }
        let taken = self.taken_queue();
        'queue: while let Some(queue) = &self.queue {
            let mut messages = queue.stream();
            loop {
                // Nothing fires or expires while catching up.
                let replaying = catch_up.is_some();
                let next_wake = if replaying { None } else { book.next_wake() };
                let mut batch = Vec::new();
                let mut idle = false;
                let rebalances = self.shared.rebalances.now();
                tokio::select! {
                    biased;
                    _ = self.stop.changed() => break 'queue,
                    () = predecessor_ended(&mut self.predecessors) => break,
                    // Before the messages: a backlog would put it off for ever.
                    () = until_due(log.unlogged_due()) => self.report_unlogged_failures(&mut log),
                    first = messages.next() => {
                        fill_batch(&mut batch, first, &mut messages, taken.as_ref(), &self, &mut queue_log);
                    }
                    () = async {
                        match next_wake {
                            Some(at) => clock.sleep_until(at).await,
                            None => std::future::pending().await,
                        }
                    } => {}
                    () = async {
                        if replaying {
                            tokio::time::sleep(CATCH_UP_IDLE).await;
                        } else {
                            std::future::pending::<()>().await;
                        }
                    // Not across a rebalance: it pauses fetching.
                    } => idle = self.shared.rebalances.quiet_since(rebalances),
                }
                let now = clock.now();
                let mut counts = StatsSnapshot::default();
                let mut latency = LatencyBatch::default();
                let span = self.batch_span(batch.len());
                self.ingest(
                    &batch,
                    &mut book,
                    resolver.check(),
                    Times::at(now, catch_up.as_ref()),
                    (&mut counts, &mut latency),
                    (&mut log, &mut dead),
                )
                .instrument(span.clone())
                .await;
                drop(batch);
                if catch_up
                    .as_ref()
                    .is_some_and(|c| c.read(book.last_seen(), idle))
                {
                    tracing::debug!(
                        stream = self.name(),
                        partition = self.partition,
                        "replay read: the windows it found ended fire"
                    );
                    catch_up = None;
                    let withheld = book.withhold_incomplete();
                    counts.windows_withheld += withheld as u64;
                    if withheld > 0 {
                        tracing::warn!(
                            stream = self.name(),
                            partition = self.partition,
                            withheld,
                            "windows not fired after the replay: messages of theirs that came \
                             after the last commit are late now, and the rest would replace \
                             their output; the output they had stands"
                        );
                    }
                }
                if catch_up.is_none() {
                    self.fire_due(&mut book, resolver, now, &mut counts, &mut window_log)
                        .instrument(span)
                        .await;
                    book.expire(now);
                }
                if let Some(next) = book.commit_position() {
                    let (mark, stops_cleanly) = match &catch_up {
                        Some(catch_up) => (catch_up.mark(), catch_up.stops_cleanly()),
                        None => {
                            let read_to = book.last_seen().map(|last| last.saturating_add(1));
                            let mark = read_to.map(|read_to| ReadMark::read(read_to, now));
                            (mark.unwrap_or_default(), true)
                        }
                    };
                    dead.past(next);
                    let mark = mark.with_dead(dead.clone()).past(next);
                    let marked = MarkedOffset {
                        next,
                        mark,
                        stops_cleanly,
                    };
                    self.hand_over(marked, &mut stored);
                }
                self.shared.stats.record_latency(&latency);
                self.shared.stats.record(counts);
                // After the counts: a reader woken by the gauge sees the firings that changed it.
                retained.set(book.retained());
                if *self.stop.borrow() {
                    break 'queue;
                }
            }
            drop(messages);
            self.renew_queue();
        }
        self.report_unlogged_failures(&mut log);
        let key = (std::sync::Arc::clone(&self.topic), self.partition);
        self.shared.window_marks.finish(&key, self.mark_epoch);
    }

    /// Hands the offset to commit over, with its read mark (`stored`: the offset last handed
    /// over, which the stream's statistics show).
    fn hand_over(&self, marked: MarkedOffset, stored: &mut Option<i64>) {
        let key = (std::sync::Arc::clone(&self.topic), self.partition);
        let next = marked.next;
        let taken = self.shared.window_marks.set(&key, self.mark_epoch, marked);
        if taken && *stored != Some(next) {
            self.shared
                .stats
                .record_stored_offset(&self.topic, self.partition, next);
            *stored = Some(next);
        }
    }

    /// The `batch` span of `size` messages (0 when windows fire on the clock alone).
    fn batch_span(&self, size: usize) -> tracing::Span {
        tracing::info_span!("batch", partition = self.partition, size)
    }

    /// Puts each message into its windows. A message counted as processed has its latency (from
    /// its timestamp to now) recorded.
    async fn ingest<M: KafkaRecord>(
        &self,
        batch: &[M],
        book: &mut WindowBook,
        check: CheckFn,
        times: Times<'_>,
        (counts, latency): (&mut StatsSnapshot, &mut LatencyBatch),
        (log, dead): (&mut LogLimiter, &mut DeadLettered),
    ) {
        let now = times.now;
        for message in batch {
            let raw = self.raw(message);
            let judged = times.judged(raw.offset);
            let event_time = raw.timestamp.unwrap_or(now);
            if times.unsure(raw.offset) {
                // Windows it is late for may have had it in an output.
                book.lost(event_time, raw.key, judged);
            }
            // Judged, as lateness is, when the message was first read: read again later, a
            // message refused then (and dead-lettered) would be nearer the clock, and join its
            // window. A message without a timestamp takes the clock's time, not ahead of it
            // (though ahead of `judged`, in a replay).
            let lead = self.shared.max_timestamp_lead;
            let ahead = raw
                .timestamp
                .and_then(|stamped| too_far_ahead_of_windows(stamped, judged, lead));
            if let Some(error) = ahead {
                self.fail_once(&raw, &error, book, (counts, log), dead)
                    .await;
                continue;
            }
            // Lateness is judged by the window, not the message's age: a message is late once
            // its window has ended more than the deadline ago (see `window`'s module doc).
            if !book.accepts(event_time, judged) {
                counts.skipped_late += 1;
                book.pass(raw.offset);
                continue;
            }
            match guarded(|| check(&raw)) {
                Ok(()) => {
                    book.insert(OwnedRecord::of(&raw), event_time, judged);
                    counts.processed += 1;
                    if let Some(ts) = raw.timestamp {
                        latency.observe(ts, now);
                    }
                }
                Err(error) => {
                    self.fail_once(&raw, &error, book, (counts, log), dead)
                        .await
                }
            }
        }
    }

    /// Fails a message unless an earlier owner dead-lettered it, having read it before this
    /// replay did: not again at each restart or rebalance.
    async fn fail_once(
        &self,
        raw: &RawMessage<'_>,
        error: &MessageError,
        book: &mut WindowBook,
        (counts, log): (&mut StatsSnapshot, &mut LogLimiter),
        dead: &mut DeadLettered,
    ) {
        let timestamp = raw.timestamp.map_or(-1, Timestamp::as_millis);
        let name = MessageName::of(raw.offset, timestamp, raw.key, raw.payload);
        if dead.contains(&name) {
            book.pass(raw.offset);
        } else if self.fail_message(raw, error, book, counts, log).await {
            dead.insert(name);
        }
    }

    /// A message that enters no window because it failed: reported, dead-lettered if the
    /// source has a topic for it, and passed. Returns whether it was dead-lettered.
    async fn fail_message(
        &self,
        raw: &RawMessage<'_>,
        error: &MessageError,
        book: &mut WindowBook,
        counts: &mut StatsSnapshot,
        log: &mut LogLimiter,
    ) -> bool {
        counts.failed += 1;
        self.report_failure(raw, error, log);
        let dead_lettered = self.dead_letter(raw, error).await;
        if dead_lettered {
            counts.dead_lettered += 1;
        }
        book.pass(raw.offset);
        dead_lettered
    }
}
