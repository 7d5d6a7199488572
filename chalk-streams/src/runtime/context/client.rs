//! The stream consumer's client callbacks: librdkafka's logs, its errors, and its statistics,
//! from which the consumer lag of each partition and the brokers' round trips are read.

use std::collections::BTreeMap;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::ClientContext;

use super::{PartitionKey, StreamContext};
use crate::runtime::BrokerRoundTrip;

impl ClientContext for StreamContext {
    /// librdkafka's warnings and errors, rate-limited; the rest at debug level.
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if (level as i32) > (RDKafkaLogLevel::Warning as i32) {
            tracing::debug!(stream = self.name(), facility, "librdkafka: {message}");
            return;
        }
        let allowed = self
            .client_logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .allow();
        let Some(suppressed) = allowed else { return };
        if (level as i32) < (RDKafkaLogLevel::Warning as i32) {
            tracing::error!(
                stream = self.name(),
                facility,
                suppressed,
                "librdkafka: {message}"
            );
        } else {
            tracing::warn!(
                stream = self.name(),
                facility,
                suppressed,
                "librdkafka: {message}"
            );
        }
    }

    /// Client errors also reach the polling thread as consumer errors, which it logs
    /// (rate-limited); logging them here too would say everything twice.
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(stream = self.name(), %error, reason, "client error");
    }

    /// Records the lag of every assigned partition: behind the committed offset, or, before
    /// anything is committed, behind the stored one. Partitions whose lag librdkafka does not
    /// know yet (no fetch yet, nothing committed or stored) are left out. Records too how long
    /// each broker took to answer.
    fn stats(&self, statistics: Statistics) {
        self.shared
            .stats
            .record_broker_round_trips(BrokerRoundTrip::from_statistics(&statistics));
        let assigned: Vec<PartitionKey> = self.workers().keys().cloned().collect();
        let windowed = !self.shared.descriptor.windows().is_empty();
        let mut lags = BTreeMap::new();
        for (topic, partition) in assigned {
            let Some(stats) = statistics
                .topics
                .get(&*topic)
                .and_then(|t| t.partitions.get(&partition))
            else {
                continue;
            };
            let lag = if windowed {
                // A window stream commits only below the first message of its oldest kept
                // window, by design; its lag is what it has not read yet.
                if stats.hi_offset >= 0 && stats.app_offset >= 0 {
                    (stats.hi_offset - stats.app_offset).max(0)
                } else {
                    -1
                }
            } else if stats.consumer_lag >= 0 {
                stats.consumer_lag
            } else {
                stats.consumer_lag_stored
            };
            if lag >= 0 {
                lags.insert((topic, partition), lag);
            }
        }
        self.shared.stats.record_consumer_lags(lags);
    }
}
