//! Commits of the partitions a stream gives up (at a revoke, at shutdown): named explicitly,
//! each with its read mark for a window stream.

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

use super::{PartitionKey, StreamContext};
use crate::runtime::commit::commit_offsets;
use crate::runtime::window_marks::add_marked;

impl StreamContext {
    /// Commits, now, the offsets this process stored for `partitions` (partitions it is giving
    /// up, whose workers have stopped) during their assignment; a partition that stored nothing
    /// new is left alone, as its group may have moved past an older ownership's offset. They are
    /// named explicitly rather than left to librdkafka's record of what is not yet committed,
    /// which a failed commit can leave wrong (seen on the mock cluster: a commit reported done,
    /// the offsets not written). Returns the partitions whose offsets Kafka now has.
    pub(crate) fn commit_partitions<K: Consumer<Self>>(
        &self,
        consumer: &K,
        partitions: &[(PartitionKey, Option<i64>)],
    ) -> Vec<PartitionKey> {
        let _one_at_a_time = self.commit_lock();
        let mut offsets = TopicPartitionList::new();
        let mut committing = Vec::new();
        for (key @ (topic, partition), stored_at_start) in partitions {
            // A window stream's partition: its offset and read mark, unless Kafka has them.
            match self.shared.window_marks.close(key) {
                Some((_, true)) => {
                    committing.push(key.clone());
                    continue;
                }
                Some((marked, false)) => {
                    match add_marked(&mut offsets, topic, *partition, &marked) {
                        Ok(()) => committing.push(key.clone()),
                        Err(error) => {
                            tracing::warn!(stream = self.name(), %topic, partition, %error, "cannot name the offset to commit")
                        }
                    }
                    continue;
                }
                None => {}
            }
            let stored = self.shared.stats.stored_offset(topic, *partition);
            if let Some(next) = stored.filter(|_| stored != *stored_at_start) {
                match offsets.add_partition_offset(topic, *partition, Offset::Offset(next)) {
                    Ok(()) => committing.push(key.clone()),
                    Err(error) => {
                        tracing::warn!(stream = self.name(), %topic, partition, %error, "cannot name the offset to commit")
                    }
                }
            }
        }
        match commit_offsets(consumer, &offsets, self.name()) {
            Ok(()) => committing,
            Err(error) => {
                tracing::warn!(stream = self.name(), %error, "offset commit failed; the partitions' next owner processes their last batches again");
                Vec::new()
            }
        }
    }
}
