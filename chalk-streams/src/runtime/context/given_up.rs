//! Commits of the partitions a stream gives up (at a revoke, at shutdown): named explicitly,
//! each with its read mark for a window stream.

use std::sync::Arc;

use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::{PartitionKey, StreamContext};
use crate::runtime::commit::{commit_offsets, CommitError};
use crate::runtime::window_marks::MarkedOffset;

impl StreamContext {
    /// Commits, now, the offsets this process stored for `partitions` (partitions it is giving
    /// up, whose workers have stopped) during their assignment; a partition that stored nothing
    /// new is left alone, as its group may have moved past an older ownership's offset. They are
    /// named explicitly rather than left to librdkafka's record of what is not yet committed,
    /// which a failed commit can leave wrong (seen on the mock cluster: a commit reported done,
    /// the offsets not written). Returns the partitions whose offsets Kafka now has, or whose
    /// topic it no longer knows.
    pub(crate) fn commit_partitions<K: Consumer<Self>>(
        &self,
        consumer: &K,
        partitions: &[(PartitionKey, Option<i64>)],
    ) -> Vec<PartitionKey> {
        let _one_at_a_time = self.commit_lock();
        let mut marked = Vec::new();
        let mut plain = Vec::new();
        for (key @ (topic, partition), stored_at_start) in partitions {
            // A window stream's partition: its offset and read mark, committed once more, as the
            // mark now says whether its worker stopped cleanly.
            match self.shared.window_marks.close(key) {
                Some(offset) => marked.push((key.clone(), offset)),
                None => {
                    let stored = self.shared.stats.stored_offset(topic, *partition);
                    if let Some(next) = stored.filter(|_| stored != *stored_at_start) {
                        plain.push((key.clone(), next));
                    }
                }
            }
        }
        let (offsets, mut named) = self.offsets_to_commit(&marked, &plain);
        let mut result = commit_offsets(consumer, &offsets, self.name());
        if let Err(CommitError::Kafka(error)) = &result {
            if !marked.is_empty() && self.shared.window_marks.refuses_metadata(error) {
                let offsets;
                (offsets, named) = self.offsets_to_commit(&marked, &plain);
                result = commit_offsets(consumer, &offsets, self.name());
            }
        }
        match result {
            Ok(()) => named,
            // The topic is gone, and its offsets with it: what this process stored for it
            // counts for nothing if it is made anew. The partitions are named, so that their
            // stored offsets are forgotten and the new topic's first messages are not passed
            // over (a topic that is still there is only read again: at least once).
            Err(CommitError::Kafka(KafkaError::ConsumerCommit(
                RDKafkaErrorCode::UnknownTopicOrPartition,
            ))) => {
                tracing::warn!(stream = self.name(), "offset commit refused: a topic or partition is unknown to the brokers (deleted?); what this process processed of them is processed again if they come back");
                named
            }
            Err(error) => {
                tracing::warn!(stream = self.name(), %error, "offset commit failed; the partitions' next owner processes their last batches again");
                Vec::new()
            }
        }
    }

    /// The list to commit, and the partitions it names.
    fn offsets_to_commit(
        &self,
        marked: &[(PartitionKey, MarkedOffset)],
        plain: &[(PartitionKey, i64)],
    ) -> (TopicPartitionList, Vec<PartitionKey>) {
        let mut offsets = TopicPartitionList::new();
        let mut named = Vec::new();
        for (key @ (topic, partition), offset) in marked {
            let added = self
                .shared
                .window_marks
                .add(&mut offsets, topic, *partition, offset, true);
            self.name_partition(key, added, &mut named);
        }
        for (key @ (topic, partition), next) in plain {
            let added = offsets.add_partition_offset(topic, *partition, Offset::Offset(*next));
            self.name_partition(key, added, &mut named);
        }
        (offsets, named)
    }

    /// Records `key` as named in the list, or logs why it could not be.
    fn name_partition(
        &self,
        (topic, partition): &PartitionKey,
        added: KafkaResult<()>,
        named: &mut Vec<PartitionKey>,
    ) {
        match added {
            Ok(()) => named.push((Arc::clone(topic), *partition)),
            Err(error) => {
                tracing::warn!(stream = self.name(), %topic, partition, %error, "cannot name the offset to commit")
            }
        }
    }
}
