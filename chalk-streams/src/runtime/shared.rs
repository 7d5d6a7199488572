//! What every worker of one stream shares.

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
    /// How far ahead of the clock a mapping stream's message may be stamped.
    pub max_timestamp_lead: Duration,
    /// Whether workers take a batch's messages in one librdkafka call (see `partition_queue`):
    /// not when rebalances are incremental, where that call's position could skip a message.
    pub take_batches: bool,
    /// A window stream's offsets to commit, with their read marks.
    pub window_marks: WindowMarks,
}
