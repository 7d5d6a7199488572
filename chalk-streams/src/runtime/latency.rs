//! A stream's processing-latency histogram: each batch's latencies gathered on the worker's
//! stack, then added to the stream's atomic buckets at once.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::message::Timestamp;

/// Upper bounds, in milliseconds, of the processing-latency buckets; one more bucket holds
/// everything above the last.
const LATENCY_BOUNDS_MS: [u64; 15] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000,
];
const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// The most one message adds to the latency sum: a day. A timestamp older than that is a
/// backlog's or a producer's mistake (a Java producer can write a timestamp of 0) rather than
/// a latency, and at most this much a message, the stream's sum holds over two hundred billion
/// such messages before it saturates; at 100 years a message, a stream of timestamps of 0 made
/// it saturate, and stop moving for good, within hours. (The buckets still count it.)
const MAX_LATENCY_MS: u64 = 86_400_000;

/// The processing latencies of one batch, gathered on the worker's stack and added to the
/// stream's histogram at once.
#[derive(Debug, Default)]
pub(crate) struct LatencyBatch {
    buckets: [u64; LATENCY_BUCKETS],
    sum_ms: u64,
    count: u64,
}

impl LatencyBatch {
    /// Records one message with Kafka timestamp `message_time`, handled at `handled_at`. A
    /// timestamp ahead (clock skew) counts as zero, and one further back than
    /// [`MAX_LATENCY_MS`] as that: a producer may set any time, down to `i64::MIN`
    /// milliseconds, which would otherwise overflow the sum.
    pub(crate) fn observe(&mut self, message_time: Timestamp, handled_at: Timestamp) {
        let age = message_time.age_at(handled_at).as_millis();
        let ms = u64::try_from(age).map_or(MAX_LATENCY_MS, |ms| ms.min(MAX_LATENCY_MS));
        let bucket = LATENCY_BOUNDS_MS.partition_point(|&bound| bound < ms);
        self.buckets[bucket] += 1;
        self.sum_ms = self.sum_ms.saturating_add(ms);
        self.count += 1;
    }
}

/// A stream's latencies so far, in buckets updated without a lock.
#[derive(Debug, Default)]
pub(crate) struct LatencyHistogram {
    buckets: [AtomicU64; LATENCY_BUCKETS],
    sum_ms: AtomicU64,
}

/// The processing-latency histogram of a stream at one moment: time from a message's Kafka
/// timestamp to its rows being written, or accepted by a store that writes them behind (window
/// streams: to its entering its windows).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct LatencySnapshot {
    /// `(upper bound in seconds, messages in this bucket)`, not cumulative, in increasing order;
    /// the last bound is `f64::INFINITY`.
    pub buckets: Vec<(f64, u64)>,
    /// The sum of all latencies, in seconds.
    pub sum_seconds: f64,
    /// Messages observed.
    pub count: u64,
}

impl LatencyHistogram {
    /// Adds one batch's latencies.
    pub(crate) fn add(&self, batch: &LatencyBatch) {
        if batch.count == 0 {
            return;
        }
        for (bucket, &n) in self.buckets.iter().zip(&batch.buckets) {
            if n > 0 {
                bucket.fetch_add(n, Ordering::Relaxed);
            }
        }
        // Saturating: a sum that wrapped would go backwards, which a Prometheus counter must not.
        let _ = self
            .sum_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sum| {
                Some(sum.saturating_add(batch.sum_ms))
            });
    }

    /// The histogram now.
    pub(crate) fn snapshot(&self) -> LatencySnapshot {
        let bounds = LATENCY_BOUNDS_MS
            .iter()
            .map(|&ms| ms as f64 / 1000.0)
            .chain(std::iter::once(f64::INFINITY));
        let buckets: Vec<(f64, u64)> = bounds
            .zip(&self.buckets)
            .map(|(bound, n)| (bound, n.load(Ordering::Relaxed)))
            .collect();
        // The count is the buckets' sum, not a load of its own: a batch added between the loads
        // would make the count differ from the `+Inf` bucket, which OpenMetrics forbids.
        let count = buckets.iter().map(|&(_, n)| n).sum();
        LatencySnapshot {
            buckets,
            sum_seconds: self.sum_ms.load(Ordering::Relaxed) as f64 / 1000.0,
            count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_timestamp_is_counted_without_overflow() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let mut batch = LatencyBatch::default();
        batch.observe(Timestamp::from_millis(now.as_millis() - 7), now);
        batch.observe(Timestamp::from_millis(i64::MIN), now);
        batch.observe(Timestamp::from_millis(i64::MAX), now);
        assert_eq!(batch.count, 3);
        assert_eq!(batch.buckets[1], 1, "7 ms: the bucket up to 10 ms");
        assert_eq!(batch.buckets[LATENCY_BUCKETS - 1], 1, "i64::MIN: the last");
        assert_eq!(batch.buckets[0], 1, "ahead of the clock: zero");
        assert_eq!(batch.sum_ms, 7 + MAX_LATENCY_MS);

        let histogram = LatencyHistogram::default();
        for _ in 0..3 {
            histogram.add(&batch);
        }
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count, 9);
        assert_eq!(
            snapshot.sum_seconds,
            (3 * (7 + MAX_LATENCY_MS)) as f64 / 1000.0,
            "no message adds more than the cap, and the sum does not wrap"
        );
    }

    #[test]
    fn ten_million_messages_stamped_at_the_epoch_leave_the_sum_moving() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let mut batch = LatencyBatch::default();
        batch.observe(Timestamp::from_millis(0), now);
        let histogram = LatencyHistogram::default();
        for _ in 0..10_000_000 {
            histogram.add(&batch);
        }
        let sum = histogram.sum_ms.load(Ordering::Relaxed);
        assert_eq!(sum, 10_000_000 * MAX_LATENCY_MS, "saturated at {sum}");
    }
}
