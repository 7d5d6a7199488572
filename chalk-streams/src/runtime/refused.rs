//! A partition whose fetches the brokers refuse (the stream's principal may describe the topic
//! but not read it): librdkafka reports it once and keeps trying, and the worker reads nothing.
//! It counts as stalled, and the stream as not ready, until a message comes again (the access
//! granted), or the partition is given up.

use std::sync::atomic::Ordering;

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::context::{REFUSED, RUNNING};
use super::partition::PartitionTask;

impl PartitionTask {
    /// Whether `error` says the partition's fetches are refused; if so, counts it as stalled
    /// (once) and says so.
    pub(super) fn fetch_refused(&self, error: &KafkaError) -> bool {
        let refused = matches!(
            error,
            KafkaError::MessageConsumption(RDKafkaErrorCode::TopicAuthorizationFailed)
        );
        if refused
            && self
                .state
                .compare_exchange(RUNNING, REFUSED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.shared.stats.record_stall(true);
            tracing::error!(stream = self.name(), topic = %self.topic, partition = self.partition, %error, "not authorized to read the partition: nothing is read from it, and the stream is not ready, until the access is granted");
        }
        refused
    }

    /// A message came: a partition whose fetches were refused reads again.
    pub(super) fn reading_again(&self) {
        if self.state.load(Ordering::Acquire) == REFUSED
            && self
                .state
                .compare_exchange(REFUSED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.shared.stats.record_stall(false);
            tracing::info!(stream = self.name(), topic = %self.topic, partition = self.partition, "the partition is read again");
        }
    }
}
