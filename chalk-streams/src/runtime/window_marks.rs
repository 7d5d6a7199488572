//! The offsets a window stream's workers hand over for commit, each with its read mark (see
//! `window::mark`) as the commit's metadata. They are committed explicitly, not stored in
//! librdkafka: librdkafka commits a stored offset only once it passes the committed one, and a
//! window stream's offset stays put while its earliest window is kept, when the mark (the time
//! of the last read) still moves on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::topic_partition_list::TopicPartitionListElem;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::context::PartitionKey;
use super::window::mark::ReadMark;

/// One partition's offset to commit, with its read mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MarkedOffset {
    /// The next offset to read.
    pub next: i64,
    /// What had been read, and by when.
    pub mark: ReadMark,
    /// Whether the mark says `stopped` when the partition is given up: not while its worker
    /// replays what a crashed owner may have read past its mark.
    pub stops_cleanly: bool,
}

/// A partition's slot: open while this process owns it.
#[derive(Debug)]
struct Slot {
    /// Which ownership opened it.
    epoch: u64,
    latest: Option<MarkedOffset>,
    /// Whether Kafka has `latest`.
    committed: bool,
    /// Whether its worker ended having handed over all it read (not aborted mid-batch).
    finished: bool,
}

/// The marked offsets of the partitions this process owns, until committed.
#[derive(Debug, Default)]
pub(crate) struct WindowMarks {
    slots: Mutex<HashMap<PartitionKey, Slot>>,
    epochs: AtomicU64,
    /// Set once the brokers refuse the marks as too large (their `offset.metadata.max.bytes`):
    /// offsets are committed without them from then on.
    metadata_refused: AtomicBool,
}

impl WindowMarks {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<PartitionKey, Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a partition's slot as its worker starts; returns the epoch the worker sets it by.
    pub(crate) fn open(&self, key: &PartitionKey) -> u64 {
        let epoch = self.epochs.fetch_add(1, Ordering::Relaxed);
        let slot = Slot {
            epoch,
            latest: None,
            committed: false,
            finished: false,
        };
        self.slots().insert(key.clone(), slot);
        epoch
    }

    /// Hands over a partition's latest offset and mark, from the worker of `epoch`; returns
    /// whether it was taken. Refused once the slot is closed or opened again: a worker aborted
    /// when its partition was given up may still run a little.
    pub(crate) fn set(&self, key: &PartitionKey, epoch: u64, marked: MarkedOffset) -> bool {
        match self.slots().get_mut(key) {
            Some(slot) if slot.epoch == epoch => {
                if slot.latest.as_ref() != Some(&marked) {
                    slot.latest = Some(marked);
                    slot.committed = false;
                }
                true
            }
            _ => false,
        }
    }

    /// Records that the worker of `epoch` ended having handed over all it read.
    pub(crate) fn finish(&self, key: &PartitionKey, epoch: u64) {
        if let Some(slot) = self.slots().get_mut(key) {
            slot.finished |= slot.epoch == epoch;
        }
    }

    /// Closes a partition's slot as it is given up; returns its latest offset, if any, to be
    /// committed once more, its mark now saying whether the worker stopped cleanly (a worker
    /// aborted mid-batch may have read, and fired windows, past it).
    pub(crate) fn close(&self, key: &PartitionKey) -> Option<MarkedOffset> {
        let slot = self.slots().remove(key)?;
        let mut latest = slot.latest?;
        latest.stops_cleanly &= slot.finished;
        Some(latest)
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
            self.add(&mut offsets, topic, *partition, marked, false)?;
        }
        if let Err(error) = consumer.commit(&offsets, CommitMode::Sync) {
            // Refused as too large, the marks are left out of the next commit.
            self.refuses_metadata(&error);
            return Err(error);
        }
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

    /// Adds a partition's offset and its mark (unless the brokers refuse marks) to `offsets`;
    /// `given_up` when the partition is.
    pub(crate) fn add(
        &self,
        offsets: &mut TopicPartitionList,
        topic: &str,
        partition: i32,
        marked: &MarkedOffset,
        given_up: bool,
    ) -> KafkaResult<()> {
        offsets.add_partition_offset(topic, partition, Offset::Offset(marked.next))?;
        if !self.metadata_refused.load(Ordering::Relaxed) {
            let stopped = given_up && marked.stops_cleanly;
            let metadata = marked.mark.clone().stopped(stopped).to_metadata();
            if let Some(mut element) = offsets.find_partition(topic, partition) {
                element.set_metadata(metadata);
            }
        }
        Ok(())
    }

    /// Whether a commit failed because the brokers take no metadata this large; if so, from
    /// now on offsets are committed without their marks (said once, as a warning).
    pub(crate) fn refuses_metadata(&self, error: &KafkaError) -> bool {
        let too_large = matches!(
            error,
            KafkaError::ConsumerCommit(RDKafkaErrorCode::OffsetMetadataTooLarge)
        );
        if too_large && !self.metadata_refused.swap(true, Ordering::Relaxed) {
            tracing::warn!(%error, "the brokers refuse window streams' read marks as offset commit metadata (raise their `offset.metadata.max.bytes` to 1024 or more): offsets are committed without them, so a window that ends more than the deadline before a restart loses the messages read before it");
        }
        too_large
    }
}

/// A committed offset's metadata; `None` when it is not UTF-8 (from another tool), on which
/// rdkafka's accessor panics: caught.
pub(crate) fn metadata_of(element: &TopicPartitionListElem<'_>) -> Option<String> {
    crate::caught::catch(|| element.metadata().to_owned()).ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::message::Timestamp;

    fn marked(next: i64, read_to: i64) -> MarkedOffset {
        MarkedOffset {
            next,
            mark: ReadMark::read(read_to, Timestamp::from_millis(1_000)),
            stops_cleanly: true,
        }
    }

    #[test]
    fn only_its_open_slot_takes_a_workers_offsets_and_closing_returns_the_latest() {
        let marks = WindowMarks::default();
        let key: PartitionKey = (Arc::from("t"), 0);
        assert!(!marks.set(&key, 0, marked(5, 6)));
        assert_eq!(marks.close(&key), None, "never opened");
        let first = marks.open(&key);
        assert!(marks.set(&key, first, marked(5, 6)));
        assert!(marks.set(&key, first, marked(5, 7)));
        marks.finish(&key, first);
        assert_eq!(marks.close(&key), Some(marked(5, 7)));
        assert!(!marks.set(&key, first, marked(6, 8)), "closed");
        let second = marks.open(&key);
        assert!(
            !marks.set(&key, first, marked(6, 8)),
            "a worker of the earlier ownership, aborted and still running"
        );
        assert!(marks.set(&key, second, marked(4, 5)));
        marks.finish(&key, first);
        let aborted = MarkedOffset {
            stops_cleanly: false,
            ..marked(4, 5)
        };
        assert_eq!(
            marks.close(&key),
            Some(aborted),
            "its worker did not finish: aborted"
        );
    }

    #[test]
    fn a_mark_says_stopped_only_when_its_partition_is_given_up_after_a_clean_read() {
        let marks = WindowMarks::default();
        let metadata = |marked: &MarkedOffset, given_up| {
            let mut offsets = TopicPartitionList::new();
            marks
                .add(&mut offsets, "t", 0, marked, given_up)
                .expect("added");
            let element = offsets.find_partition("t", 0).expect("named");
            element.metadata().to_owned()
        };
        let clean = marked(5, 7);
        assert_eq!(
            metadata(&clean, false),
            "chalk-streams/window-reads/1 7@1000"
        );
        assert_eq!(
            metadata(&clean, true),
            "chalk-streams/window-reads/1 7@1000 stopped"
        );
        let replaying = MarkedOffset {
            stops_cleanly: false,
            ..clean
        };
        assert_eq!(
            metadata(&replaying, true),
            "chalk-streams/window-reads/1 7@1000"
        );
    }
}
