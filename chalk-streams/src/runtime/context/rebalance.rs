//! The stream consumer's rebalance callbacks: a revoked partition's workers are stopped and
//! its offsets committed; assigned partitions get workers, released once the main queue is
//! drained.

use std::collections::HashSet;
use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, RebalanceProtocol};
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
        self.shared.rebalances.step();
        self.revoke(consumer, rebalance);
        self.shared.rebalances.step();
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        self.shared.rebalances.step();
        self.assign(consumer, rebalance);
        self.shared.rebalances.step();
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

impl StreamContext {
    /// A rebalance is about to take partitions: their workers stop and their offsets are
    /// committed.
    fn revoke(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                self.shared.stats.record_rebalance_started();
                self.hand_back(consumer, &keys(tpl));
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(error) => {
                tracing::warn!(stream = self.name(), %error, "rebalance error");
            }
        }
    }

    /// A rebalance has assigned partitions: each gets a worker.
    fn assign(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let eager = !matches!(
                consumer.rebalance_protocol(),
                RebalanceProtocol::Cooperative
            );
            let still_owned = self.owned_before(&keys(tpl), eager);
            if !still_owned.is_empty() {
                tracing::warn!(
                    stream = self.name(),
                    partitions = ?still_owned,
                    "assigned partitions without revoking those owned before; they are handed \
                     back first, as at a revoke"
                );
                self.hand_back(consumer, &still_owned);
            }
            for element in tpl.elements() {
                self.start_worker(element.topic(), element.partition());
            }
            self.forget_offsets_of_partitions_owned_elsewhere();
            self.shared.stats.record_rebalance_ended();
            // Messages fetched before the split sit on the main queue: the polling thread
            // drains them to their workers, then releases the workers.
            self.assigned.notify_one();
        }
    }

    /// Stops the workers of `partitions`, each after the batch in hand, and commits what they
    /// stored: what a revoke does.
    fn hand_back(&self, consumer: &BaseConsumer<Self>, partitions: &[PartitionKey]) {
        let revoked = self.stop_workers(Some(partitions), self.shared.drain_timeout);
        // Where Kafka has the offsets, a later assignment resumes from them. Only where the
        // commit failed does it pass over what this process stored (processed) beyond them,
        // but not where the brokers no longer knew the topic: resuming there after an offset
        // reset (a topic made anew) would pass over messages never seen.
        for (topic, partition) in self.commit_partitions(consumer, &revoked) {
            self.shared.stats.forget_stored_offset(&topic, partition);
        }
        for ((topic, partition), _) in revoked {
            tracing::info!(stream = self.name(), %topic, partition, "partition revoked");
        }
    }

    /// Forgets the offsets stored for partitions this process no longer owns. One kept past a
    /// failed commit (see `hand_back`) is for a partition that comes straight back, in the
    /// assignment that follows the revoke (an eager one; an incremental revoke's partitions are
    /// never in it, so theirs are forgotten at once, and read again if they return); one owned
    /// elsewhere since may have been made anew, with its topic, and its new first messages
    /// would be passed over unseen.
    fn forget_offsets_of_partitions_owned_elsewhere(&self) {
        let owned: HashSet<PartitionKey> = self.workers().keys().cloned().collect();
        for ((topic, partition), _) in self.shared.stats.stored_offsets() {
            let topic: Arc<str> = Arc::from(topic);
            if !owned.contains(&(Arc::clone(&topic), partition)) {
                self.shared.stats.forget_stored_offset(&topic, partition);
            }
        }
    }

    /// The partitions with a worker that an assignment of `assigned` finds: librdkafka can
    /// assign again without a revoke first (when the group is rejoined while an assignment
    /// waits to be served). An eager assignment replaces the whole one before, and restarts
    /// fetching from the committed offsets, so all of them; an incremental one adds to it, so
    /// those it names again.
    fn owned_before(&self, assigned: &[PartitionKey], eager: bool) -> Vec<PartitionKey> {
        let workers = self.workers();
        if eager {
            workers.keys().cloned().collect()
        } else {
            assigned
                .iter()
                .filter(|key| workers.contains_key(*key))
                .cloned()
                .collect()
        }
    }
}
