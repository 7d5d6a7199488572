//! The offsets a window stream's workers hand over for commit, each with its read mark (see
//! `window::mark`) as the commit's metadata. They are committed explicitly, not stored in
//! librdkafka: librdkafka commits a stored offset only once it passes the committed one, and a
//! window stream's offset stays put while its earliest window is kept, when the mark (the time
//! of the last read) still moves on.

use std::collections::HashMap;
use std::sync::Mutex;

use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use super::context::PartitionKey;

/// One partition's offset to commit, with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MarkedOffset {
    /// The next offset to read.
    pub next: i64,
    /// The read mark, as commit metadata.
    pub metadata: String,
}

/// A partition's slot: open while this process owns it.
#[derive(Debug, Default)]
struct Slot {
    latest: Option<MarkedOffset>,
    /// Whether Kafka has `latest`.
    committed: bool,
}

/// The marked offsets of the partitions this process owns, until committed.
#[derive(Debug, Default)]
pub(crate) struct WindowMarks {
    slots: Mutex<HashMap<PartitionKey, Slot>>,
}

impl WindowMarks {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<PartitionKey, Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a partition's slot as its worker starts.
    pub(crate) fn open(&self, key: &PartitionKey) {
        self.slots().insert(key.clone(), Slot::default());
    }

    /// Hands over a partition's latest offset and mark; ignored once the slot is closed (a
    /// worker aborted when its partition was given up may still run a little).
    pub(crate) fn set(&self, key: &PartitionKey, marked: MarkedOffset) {
        if let Some(slot) = self.slots().get_mut(key) {
            if slot.latest.as_ref() != Some(&marked) {
                slot.latest = Some(marked);
                slot.committed = false;
            }
        }
    }

    /// Closes a partition's slot as it is given up; returns its latest offset, if any, and
    /// whether Kafka has it.
    pub(crate) fn close(&self, key: &PartitionKey) -> Option<(MarkedOffset, bool)> {
        let slot = self.slots().remove(key)?;
        Some((slot.latest?, slot.committed))
    }

    /// Commits the offsets Kafka does not have yet, now (the caller holds the commit lock).
    pub(crate) fn commit<C, K>(&self, consumer: &K) -> KafkaResult<()>
    where
        C: ConsumerContext,
        K: Consumer<C>,
    {
        let pending: Vec<(PartitionKey, MarkedOffset)> = self
            .slots()
            .iter()
            .filter(|(_, slot)| !slot.committed)
            .filter_map(|(key, slot)| Some((key.clone(), slot.latest.clone()?)))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), marked) in &pending {
            add_marked(&mut offsets, topic, *partition, marked)?;
        }
        consumer.commit(&offsets, CommitMode::Sync)?;
        let mut slots = self.slots();
        for (key, marked) in pending {
            if let Some(slot) = slots.get_mut(&key) {
                // Unless the worker handed over a newer one meanwhile.
                if slot.latest.as_ref() == Some(&marked) {
                    slot.committed = true;
                }
            }
        }
        Ok(())
    }
}

/// Adds a partition's offset and its mark to `offsets`.
pub(crate) fn add_marked(
    offsets: &mut TopicPartitionList,
    topic: &str,
    partition: i32,
    marked: &MarkedOffset,
) -> KafkaResult<()> {
    offsets.add_partition_offset(topic, partition, Offset::Offset(marked.next))?;
    if let Some(mut element) = offsets.find_partition(topic, partition) {
        element.set_metadata(&marked.metadata);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn marked(next: i64, metadata: &str) -> MarkedOffset {
        MarkedOffset {
            next,
            metadata: metadata.to_owned(),
        }
    }

    #[test]
    fn only_an_open_slot_takes_offsets_and_closing_returns_what_kafka_lacks() {
        let marks = WindowMarks::default();
        let key: PartitionKey = (Arc::from("t"), 0);
        marks.set(&key, marked(5, "a"));
        assert_eq!(marks.close(&key), None, "never opened");
        marks.open(&key);
        marks.set(&key, marked(5, "a"));
        marks.set(&key, marked(5, "b"));
        assert_eq!(marks.close(&key), Some((marked(5, "b"), false)));
        marks.set(&key, marked(6, "c"));
        assert_eq!(marks.close(&key), None, "closed: a late worker is ignored");
    }
}
