//! What every worker of one stream shares.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::clock::Clock;
use super::window_marks::WindowMarks;
use super::StreamStats;
use crate::duration::LateArrivalDeadline;
use crate::registry::StreamDescriptor;
use crate::store::FeatureStore;

/// What every worker of one stream shares.
pub(crate) struct StreamShared {
    pub descriptor: &'static StreamDescriptor,
    pub deadline: LateArrivalDeadline,
    pub store: Arc<dyn FeatureStore>,
    pub stats: Arc<StreamStats>,
    pub handle: tokio::runtime::Handle,
    pub drain_timeout: Duration,
    pub dlq: Option<crate::dlq::DeadLetterQueue>,
    pub clock: Arc<dyn Clock>,
    pub window_retention: Duration,
    /// How far ahead of the clock a message may be stamped.
    pub max_timestamp_lead: Duration,
    /// Whether workers take a batch's messages in one librdkafka call (see `partition_queue`):
    /// not when rebalances are incremental, where that call's position could skip a message.
    pub take_batches: bool,
    /// A window stream's offsets to commit, with their read marks.
    pub window_marks: WindowMarks,
    /// The consumer's rebalance callbacks, counted.
    pub rebalances: RebalanceCount,
}

/// Counts the consumer's rebalance callbacks as they begin and end: odd while one runs. A
/// rebalance pauses fetching (an incremental one, every partition's, until its callback has
/// returned, which a revoke's drain can make 20 s), so a window replay that hears nothing
/// across one has not found its end.
#[derive(Debug, Default)]
pub(crate) struct RebalanceCount(AtomicU64);

impl RebalanceCount {
    /// A callback begins or ends.
    pub(crate) fn step(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// The count now.
    pub(crate) fn now(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Whether no callback has run since the count was `then`, and none runs now.
    pub(crate) fn quiet_since(&self, then: u64) -> bool {
        let now = self.now();
        now == then && now.is_multiple_of(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_only_without_a_callback_since_or_now() {
        let count = RebalanceCount::default();
        let then = count.now();
        assert!(count.quiet_since(then));
        count.step();
        assert!(!count.quiet_since(then), "one began since");
        let during = count.now();
        assert!(!count.quiet_since(during), "one runs");
        count.step();
        assert!(!count.quiet_since(during), "one ended since");
        assert!(count.quiet_since(count.now()));
    }
}
