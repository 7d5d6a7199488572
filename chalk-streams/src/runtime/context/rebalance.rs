//! The stream consumer's rebalance callbacks: a revoked partition's workers are stopped and
//! its offsets committed; assigned partitions get workers, released once the main queue is
//! drained.

use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::TopicPartitionList;

use super::{PartitionKey, StreamContext};

fn keys(tpl: &TopicPartitionList) -> Vec<PartitionKey> {
    tpl.elements()
        .iter()
        .map(|e| (Arc::from(e.topic()), e.partition()))
        .collect()
}

impl ConsumerContext for StreamContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                self.shared.stats.record_rebalance_started();
                let revoked = self.stop_workers(Some(&keys(tpl)), self.shared.drain_timeout);
                // Where Kafka has the offsets, a later assignment resumes from them. Only where
                // the commit failed does it pass over what this process stored (processed)
                // beyond them: resuming there after an offset reset (a topic made anew) would
                // pass over messages never seen.
                for (topic, partition) in self.commit_partitions(consumer, &revoked) {
                    self.shared.stats.forget_stored_offset(&topic, partition);
                }
                for ((topic, partition), _) in revoked {
                    tracing::info!(stream = self.name(), %topic, partition, "partition revoked");
                }
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(error) => {
                tracing::warn!(stream = self.name(), %error, "rebalance error");
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            for element in tpl.elements() {
                self.start_worker(element.topic(), element.partition());
            }
            self.shared.stats.record_rebalance_ended();
            // Messages fetched before the split sit on the main queue: the polling thread
            // drains them to their workers, then releases the workers.
            self.assigned.notify_one();
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => tracing::trace!(stream = self.name(), ?offsets, "offsets committed"),
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            // The runtime's own commits are synchronous and log their failures.
            Err(error) => tracing::debug!(stream = self.name(), %error, "offset commit failed"),
        }
    }
}
