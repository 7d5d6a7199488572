//! Per-stream counters, a processing-latency histogram, consumer lag and the brokers' round
//! trips, and waiting on them without sleeping.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::latency::{LatencyBatch, LatencyHistogram, LatencySnapshot};
use super::round_trip::BrokerRoundTrip;

/// Live counters of one stream. Updated once per batch; readers get a [`StatsSnapshot`].
#[derive(Debug, Default)]
pub struct StreamStats {
    processed: AtomicU64,
    skipped_late: AtomicU64,
    failed: AtomicU64,
    dead_lettered: AtomicU64,
    rows_written: AtomicU64,
    assigned_partitions: AtomicU64,
    retries: AtomicU64,
    windows_fired: AtomicU64,
    windows_failed: AtomicU64,
    windows_withheld: AtomicU64,
    windows_retained: AtomicI64,
    stored_offsets: Mutex<BTreeMap<(Arc<str>, i32), i64>>,
    latency: LatencyHistogram,
    consumer_lags: Mutex<BTreeMap<(Arc<str>, i32), i64>>,
    broker_round_trips: Mutex<BTreeMap<String, BrokerRoundTrip>>,
    /// Since when a rebalance has taken this process's partitions without assigning any yet.
    rebalancing_since: Mutex<Option<Instant>>,
    stalled_partitions: AtomicU64,
    waiting_partitions: AtomicU64,
    /// The error that ended the stream's consumer for good, if one did.
    fatal_error: Mutex<Option<String>>,
    changed: Notify,
}

/// How long a rebalance that took a process's partitions may last before the process counts as
/// owning none (and not ready). Kafka's eager protocol takes every partition at each rebalance
/// (a rolling update makes many), and hands them back after the drain and the group's join.
pub const REBALANCE_GRACE: Duration = Duration::from_secs(60);

/// A stream's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// Messages whose outputs are stored, or accepted by a store that writes them behind
    /// (SQLite): their offsets are committed once the store has written them.
    pub processed: u64,
    /// Messages skipped because they were older than the late-arrival deadline.
    pub skipped_late: u64,
    /// Messages that failed (parse, resolver or store), dead-lettered or not.
    pub failed: u64,
    /// Failed messages acknowledged by the dead-letter topic.
    pub dead_lettered: u64,
    /// Feature rows written to the store, or accepted by a store that writes them behind.
    pub rows_written: u64,
    /// Partitions this process currently owns.
    pub assigned_partitions: u64,
    /// Writes to the store or the dead-letter topic that failed and were retried.
    pub retries: u64,
    /// Window firings (first firings and re-firings after late messages) whose rows were written.
    pub windows_fired: u64,
    /// Window firings whose resolver failed (returned `Err` or panicked) or whose output the
    /// store refused for good.
    pub windows_failed: u64,
    /// Windows not fired after a replay because a message of theirs, read by a crashed owner
    /// after its last commit, is late now: their earlier output stands.
    pub windows_withheld: u64,
    /// Windows currently held in memory by this process.
    pub windows_retained: u64,
    /// Assigned partitions whose worker stopped on a panic (nothing more is read from them
    /// until they are assigned again: a restart or a rebalance), or whose fetches the brokers
    /// refuse (until a message comes again); the stream is not ready meanwhile.
    pub stalled_partitions: u64,
    /// Assigned partitions whose worker is waiting for the feature store or the dead-letter
    /// topic to be back: it retries the write, and nothing past the messages in hand is read or
    /// committed meanwhile. [`retries`](Self::retries) counts the attempts.
    pub waiting_partitions: u64,
    /// 1 once the stream's consumer has ended on a fatal error (see
    /// [`StreamStats::fatal_error`]): the stream reads nothing more until the process restarts.
    pub consumer_failed: u64,
}

impl StatsSnapshot {
    /// Every message the stream has finished with, however it ended.
    pub fn handled(&self) -> u64 {
        self.processed + self.skipped_late + self.failed
    }
}

/// A gauge's value; one stepped below zero (see [`StreamStats::step`]) reads as zero.
fn gauge(gauge: &AtomicU64) -> u64 {
    let value = gauge.load(Ordering::Relaxed);
    if i64::try_from(value).is_ok() {
        value
    } else {
        0
    }
}

impl StreamStats {
    /// Adds one batch's counts and wakes waiters.
    pub(crate) fn record(&self, batch: StatsSnapshot) {
        self.processed.fetch_add(batch.processed, Ordering::Relaxed);
        self.skipped_late
            .fetch_add(batch.skipped_late, Ordering::Relaxed);
        self.failed.fetch_add(batch.failed, Ordering::Relaxed);
        self.dead_lettered
            .fetch_add(batch.dead_lettered, Ordering::Relaxed);
        self.rows_written
            .fetch_add(batch.rows_written, Ordering::Relaxed);
        self.windows_fired
            .fetch_add(batch.windows_fired, Ordering::Relaxed);
        self.windows_failed
            .fetch_add(batch.windows_failed, Ordering::Relaxed);
        self.windows_withheld
            .fetch_add(batch.windows_withheld, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// Adds one batch's latencies. Call before [`record`](Self::record) of the same batch, so
    /// that a waiter woken by the counters sees the histogram with them.
    pub(crate) fn record_latency(&self, batch: &LatencyBatch) {
        self.latency.add(batch);
    }

    /// The processing-latency histogram now.
    pub fn latency(&self) -> LatencySnapshot {
        self.latency.snapshot()
    }

    /// Replaces the consumer lag of the assigned partitions (from librdkafka's statistics) and
    /// wakes waiters.
    pub(crate) fn record_consumer_lags(&self, lags: BTreeMap<(Arc<str>, i32), i64>) {
        *self
            .consumer_lags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = lags;
        self.changed.notify_waiters();
    }

    /// Forgets the lag of a partition this process gave up.
    pub(crate) fn forget_consumer_lag(&self, topic: &Arc<str>, partition: i32) {
        self.consumer_lags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(Arc::clone(topic), partition));
    }

    /// Per assigned partition, the messages between its last committed offset (or, before the
    /// first commit, its last stored offset) and its end, as of librdkafka's last statistics.
    /// Partitions whose lag is not known yet are absent.
    pub fn consumer_lags(&self) -> BTreeMap<(String, i32), i64> {
        let lags = self
            .consumer_lags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        lags.iter()
            .map(|((t, p), lag)| ((t.to_string(), *p), *lag))
            .collect()
    }

    /// Records the brokers' round trips of librdkafka's latest statistics window, and wakes
    /// waiters.
    pub(crate) fn record_broker_round_trips(&self, round_trips: BTreeMap<String, BrokerRoundTrip>) {
        *self
            .broker_round_trips
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = round_trips;
        self.changed.notify_waiters();
    }

    /// Per broker (as librdkafka names it, `host:port/id`), its round trips over librdkafka's
    /// last statistics window. Brokers that answered no request in that window are absent.
    pub fn broker_round_trips(&self) -> BTreeMap<String, BrokerRoundTrip> {
        self.broker_round_trips
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Adds `delta` to the number of retained windows (a partition's change since its last
    /// report), and wakes waiters.
    pub(crate) fn record_retained_windows(&self, delta: i64) {
        self.windows_retained.fetch_add(delta, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// Records a failed store or dead-letter write that will be retried, and wakes waiters.
    pub(crate) fn record_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// Records that a rebalance is taking this process's partitions (when it owns any).
    pub(crate) fn record_rebalance_started(&self) {
        if self.assigned_partitions.load(Ordering::Relaxed) > 0 {
            *self
                .rebalancing_since
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        }
    }

    /// Records that a rebalance assigned this process its partitions (possibly none).
    pub(crate) fn record_rebalance_ended(&self) {
        *self
            .rebalancing_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.changed.notify_waiters();
    }

    /// Whether a rebalance took this process's partitions less than [`REBALANCE_GRACE`] ago and
    /// has not assigned it any yet.
    pub fn rebalancing(&self) -> bool {
        self.rebalancing_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|since| since.elapsed() < REBALANCE_GRACE)
    }

    /// Adds one to `gauge` (`up`) or takes one away, and wakes waiters.
    /// Steps a gauge of partitions. A step down may come first, by a moment, from another
    /// thread (a worker marks its partition stalled, then counts it; the rebalance that gives
    /// the partition up may see the mark in between), so the gauge wraps below zero for that
    /// moment: [`gauge`] reads it as zero.
    fn step(&self, gauge: &AtomicU64, up: bool) {
        if up {
            gauge.fetch_add(1, Ordering::Relaxed);
        } else {
            gauge.fetch_sub(1, Ordering::Relaxed);
        }
        self.changed.notify_waiters();
    }

    /// Records a gained (`true`) or lost partition and wakes waiters.
    pub(crate) fn record_assignment(&self, gained: bool) {
        self.step(&self.assigned_partitions, gained);
    }

    /// Records the offset handed to Kafka for commit (the next offset to read). Waiters are
    /// woken by the batch's counts, recorded after it, so that they never see an offset stored
    /// past messages not yet counted; or by [`offsets_confirmed`](Self::offsets_confirmed).
    pub(crate) fn record_stored_offset(&self, topic: &Arc<str>, partition: i32, next: i64) {
        self.stored_offsets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((Arc::clone(topic), partition), next);
    }

    /// Wakes waiters after offsets were stored outside a batch (a store that writes behind
    /// confirmed them).
    pub(crate) fn offsets_confirmed(&self) {
        self.changed.notify_waiters();
    }

    /// The offset this process last handed to Kafka for commit on one partition.
    pub(crate) fn stored_offset(&self, topic: &Arc<str>, partition: i32) -> Option<i64> {
        let offsets = self
            .stored_offsets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        offsets.get(&(Arc::clone(topic), partition)).copied()
    }

    /// Per partition, the offset this process has handed to Kafka for commit: every message
    /// before it is done. Partitions with nothing stored yet are absent.
    pub fn stored_offsets(&self) -> BTreeMap<(String, i32), i64> {
        let offsets = self
            .stored_offsets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        offsets
            .iter()
            .map(|((t, p), o)| ((t.to_string(), *p), *o))
            .collect()
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            processed: self.processed.load(Ordering::Relaxed),
            skipped_late: self.skipped_late.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            rows_written: self.rows_written.load(Ordering::Relaxed),
            assigned_partitions: gauge(&self.assigned_partitions),
            retries: self.retries.load(Ordering::Relaxed),
            windows_fired: self.windows_fired.load(Ordering::Relaxed),
            windows_failed: self.windows_failed.load(Ordering::Relaxed),
            windows_withheld: self.windows_withheld.load(Ordering::Relaxed),
            windows_retained: u64::try_from(self.windows_retained.load(Ordering::Relaxed))
                .unwrap_or(0),
            stalled_partitions: gauge(&self.stalled_partitions),
            waiting_partitions: gauge(&self.waiting_partitions),
            consumer_failed: u64::from(
                self.fatal_error
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .is_some(),
            ),
        }
    }

    /// Records that a partition's worker stopped on a panic or has its fetches refused (`true`),
    /// or that such a partition reads again or was given up (`false`); wakes waiters.
    pub(crate) fn record_stall(&self, stalled: bool) {
        self.step(&self.stalled_partitions, stalled);
    }

    /// Records that a partition's worker began (`true`) or ended waiting for the store or the
    /// dead-letter topic; wakes waiters.
    pub(crate) fn record_waiting(&self, waiting: bool) {
        self.step(&self.waiting_partitions, waiting);
    }

    /// Records the error that ended the stream's consumer for good.
    pub(crate) fn record_fatal_error(&self, error: String) {
        *self
            .fatal_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(error);
        self.changed.notify_waiters();
    }

    /// The error that ended the stream's consumer for good (a fenced static member, say): the
    /// stream reads nothing more and is not ready; the process should be restarted.
    pub fn fatal_error(&self) -> Option<String> {
        self.fatal_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Forgets the offset stored for a partition whose commit Kafka confirmed as it was given
    /// up: if the partition comes back, its group's offset is the place to resume from.
    pub(crate) fn forget_stored_offset(&self, topic: &Arc<str>, partition: i32) {
        self.stored_offsets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(Arc::clone(topic), partition));
    }

    /// A future that resolves at the next change of the counters. Create it (and
    /// [`enable`](tokio::sync::futures::Notified::enable) it) before checking a condition, so
    /// no change between the check and the wait is missed.
    pub fn next_change(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// Waits until `done` holds for the counters, or `timeout` passes. Returns the last
    /// snapshot and whether `done` held.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&StatsSnapshot) -> bool,
    ) -> (StatsSnapshot, bool) {
        let deadline = tokio::time::Instant::now() + timeout.min(super::clock::LONGEST_WAIT);
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let snapshot = self.snapshot();
            if done(&snapshot) {
                return (snapshot, true);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let snapshot = self.snapshot();
                let held = done(&snapshot);
                return (snapshot, held);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gauge_stepped_down_before_up_reads_zero_then_and_after() {
        let stats = StreamStats::default();
        stats.record_stall(false);
        assert_eq!(stats.snapshot().stalled_partitions, 0);
        stats.record_stall(true);
        assert_eq!(stats.snapshot().stalled_partitions, 0);
        stats.record_stall(true);
        assert_eq!(stats.snapshot().stalled_partitions, 1);
    }
}
