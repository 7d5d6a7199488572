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
    /// Whether `error` says the partition's fetches are refused while the worker reads it; if
    /// so, counts it as stalled (once) and says so, with librdkafka's `reason`. (A worker given
    /// up or stopped leaves the error to the usual log line.)
    pub(super) fn fetch_refused(&self, error: &KafkaError, reason: &str) -> bool {
        if !matches!(
            error,
            KafkaError::MessageConsumption(RDKafkaErrorCode::TopicAuthorizationFailed)
        ) {
            return false;
        }
        match self
            .state
            .compare_exchange(RUNNING, REFUSED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                self.shared.stats.record_stall(true);
                tracing::error!(stream = self.name(), topic = %self.topic, partition = self.partition, %error, reason, "not authorized to read the partition: nothing is read from it, and the stream is not ready, until the access is granted");
                true
            }
            Err(state) => state == REFUSED,
        }
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
