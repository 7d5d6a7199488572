//! Tumbling windows for window streams: which window a message falls in, when a window is due to
//! fire (or fire again, after a late message), when its state may be dropped, and how far the
//! partition's offset may be committed while windows still need their messages.
//!
//! Crash-correctness by replay: the offset committed is never past the first message of a
//! window that is still retained, so after a crash the window is rebuilt from Kafka and fires
//! again with the same content. The cost is replaying up to `window size + retention` of messages
//! at start-up; nothing is persisted besides the offsets and, in their commits' metadata, what
//! had been read by when (`mark`).
//!
//! For the same content, whether a message is late is decided by its window alone: it is late
//! once its window ended more than the late-arrival deadline ago (the deadline is a grace period
//! after the window's end, as in Kafka Streams). Judged by the message's own age instead, a
//! replay after a restart would see the window's first messages older than at their first
//! reading, skip them, and fire the window again with only the rest.

pub(crate) mod dead_lettered;
pub(crate) mod mark;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use std::time::Duration;

use crate::duration::{parse_duration, LateArrivalDeadline};
use crate::message::{Headers, RawHeaders, RawMessage, Timestamp};

/// A message kept for the windows it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OwnedRecord {
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub timestamp: Option<Timestamp>,
    pub headers: Headers,
}

/// One window size of a stream, e.g. 10 minutes labelled `10m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowSize {
    pub millis: i64,
    pub label: &'static str,
}

/// Identifies one window: its end, its size (index into the stream's sizes) and the message key
/// (messages without a key have a window of their own, apart from those with an empty key).
pub(crate) type WindowId = (i64, usize, Option<Vec<u8>>);

#[derive(Debug, Default)]
struct Window {
    records: Vec<Arc<OwnedRecord>>,
    /// Fired at least once.
    fired: bool,
}

/// The windows of one partition.
#[derive(Debug)]
pub(crate) struct WindowBook {
    sizes: Vec<WindowSize>,
    /// How long after its end a window is kept (and late messages still re-fire it).
    retention: i64,
    windows: BTreeMap<WindowId, Window>,
    /// The windows holding messages their last firing did not include, so that finding the
    /// ones due does not walk every window kept for its retention.
    pending: BTreeSet<WindowId>,
    /// The first offset of each retained window: nothing from there on may be committed.
    pinned: BTreeMap<i64, usize>,
    /// The highest offset handled.
    last_seen: Option<i64>,
    /// Retained windows that a replayed message was late for (`lost`), until they are withheld.
    incomplete: BTreeSet<WindowId>,
}

impl OwnedRecord {
    /// The record as generated code takes it.
    pub(crate) fn raw<'a>(&'a self, topic: &'a Arc<str>, partition: i32) -> RawMessage<'a> {
        RawMessage {
            payload: self.payload.as_deref(),
            key: self.key.as_deref(),
            topic,
            partition,
            offset: self.offset,
            timestamp: self.timestamp,
            headers: RawHeaders::Owned(&self.headers),
        }
    }
}

impl WindowBook {
    /// The windows of a stream with these sizes (checked at compile time by `#[stream]`), kept
    /// for the late-arrival deadline after their end, or for `retention` when it is infinite
    /// (or longer).
    pub(crate) fn for_stream(
        sizes: &'static [&'static str],
        deadline: LateArrivalDeadline,
        retention: Duration,
    ) -> Self {
        let sizes = sizes
            .iter()
            .filter_map(|label| {
                let size = parse_duration(label).ok()?;
                Some(WindowSize {
                    millis: i64::try_from(size.as_millis()).unwrap_or(i64::MAX),
                    label,
                })
            })
            .collect();
        let retention = match deadline {
            LateArrivalDeadline::Within(deadline) => deadline.min(retention),
            LateArrivalDeadline::Infinity => retention,
        };
        Self::new(
            sizes,
            i64::try_from(retention.as_millis()).unwrap_or(i64::MAX),
        )
    }

    pub(crate) fn new(sizes: Vec<WindowSize>, retention_millis: i64) -> Self {
        Self {
            sizes,
            retention: retention_millis,
            windows: BTreeMap::new(),
            pending: BTreeSet::new(),
            pinned: BTreeMap::new(),
            last_seen: None,
            incomplete: BTreeSet::new(),
        }
    }

    /// Whether a message with this event time can still be placed in a retained window.
    pub(crate) fn accepts(&self, event_time: Timestamp, now: Timestamp) -> bool {
        self.sizes.iter().any(|size| {
            let end = window_end(event_time.as_millis(), size.millis);
            end.saturating_add(self.retention) >= now.as_millis()
        })
    }

    /// The last offset handled, in a window or not.
    pub(crate) fn last_seen(&self) -> Option<i64> {
        self.last_seen
    }

    /// Records that `offset` was handled without entering a window (skipped or failed).
    pub(crate) fn pass(&mut self, offset: i64) {
        self.last_seen = Some(self.last_seen.map_or(offset, |o| o.max(offset)));
    }

    /// Records that a replayed message with this event time and key, judged at `judged`, is
    /// late for the retained windows of the sizes whose retention has passed: they miss it.
    /// (Judged late at the replay's start, it may have been read by a crashed owner after its
    /// last commit, and be in those windows' last output.)
    pub(crate) fn lost(&mut self, event_time: Timestamp, key: Option<&[u8]>, judged: Timestamp) {
        for (index, size) in self.sizes.iter().enumerate() {
            let end = window_end(event_time.as_millis(), size.millis);
            if end.saturating_add(self.retention) >= judged.as_millis() {
                continue;
            }
            let id = (end, index, key.map(<[u8]>::to_vec));
            if self.windows.contains_key(&id) {
                self.incomplete.insert(id);
            }
        }
    }

    /// Withholds the windows a replayed message was late for from firing: part of their
    /// messages would replace the output of all of them. Returns how many were due to fire.
    pub(crate) fn withhold_incomplete(&mut self) -> usize {
        let incomplete = std::mem::take(&mut self.incomplete);
        incomplete
            .iter()
            .filter(|id| self.pending.remove(*id))
            .count()
    }

    /// Adds a message to its window of every size (those still retained).
    pub(crate) fn insert(&mut self, record: OwnedRecord, event_time: Timestamp, now: Timestamp) {
        let record = Arc::new(record);
        let key = record.key.clone();
        for (index, size) in self.sizes.iter().enumerate() {
            let end = window_end(event_time.as_millis(), size.millis);
            if end.saturating_add(self.retention) < now.as_millis() {
                continue;
            }
            let id = (end, index, key.clone());
            let window = self.windows.entry(id.clone()).or_default();
            if window.records.is_empty() {
                *self.pinned.entry(record.offset).or_default() += 1;
            }
            window.records.push(Arc::clone(&record));
            self.pending.insert(id);
        }
        self.pass(record.offset);
    }

    /// The windows that must fire now: ended and holding messages not yet fired, by end.
    pub(crate) fn due(&self, now: Timestamp) -> Vec<WindowId> {
        self.pending
            .range(..(now.as_millis().saturating_add(1), 0, None))
            .cloned()
            .collect()
    }

    /// When the next window ends that has messages waiting to fire.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.pending
            .first()
            .map(|(end, _, _)| Timestamp::from_millis(*end))
    }

    /// When the next retained window may be dropped.
    pub(crate) fn next_expiry(&self) -> Option<Timestamp> {
        self.windows.keys().next().map(|(end, _, _)| {
            Timestamp::from_millis(end.saturating_add(self.retention).saturating_add(1))
        })
    }

    /// When the worker must next wake without a message: a window to fire or to drop.
    pub(crate) fn next_wake(&self) -> Option<Timestamp> {
        match (self.next_due(), self.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A window's messages, in offset order, its size and whether it fired before.
    pub(crate) fn window(&self, id: &WindowId) -> Option<(&[Arc<OwnedRecord>], WindowSize, bool)> {
        let window = self.windows.get(id)?;
        Some((&window.records, self.sizes[id.1], window.fired))
    }

    /// Records that a window fired with everything it holds.
    pub(crate) fn fired(&mut self, id: &WindowId) {
        if let Some(window) = self.windows.get_mut(id) {
            window.fired = true;
        }
        self.pending.remove(id);
    }

    /// Drops the windows whose retention has passed; returns how many.
    pub(crate) fn expire(&mut self, now: Timestamp) -> usize {
        // Windows are ordered by end, so the expired ones are the first.
        let mut expired = 0;
        while let Some(entry) = self.windows.first_entry() {
            if entry.key().0.saturating_add(self.retention) >= now.as_millis() {
                break;
            }
            let (id, window) = entry.remove_entry();
            self.pending.remove(&id);
            expired += 1;
            if let Some(first) = window.records.first() {
                if let Some(count) = self.pinned.get_mut(&first.offset) {
                    *count -= 1;
                    if *count == 0 {
                        self.pinned.remove(&first.offset);
                    }
                }
            }
        }
        expired
    }

    /// The offset to commit: the first message of the earliest retained window, else the one
    /// after the last handled; `None` before any message.
    pub(crate) fn commit_position(&self) -> Option<i64> {
        match self.pinned.keys().next() {
            Some(first_needed) => Some(*first_needed),
            None => self.last_seen.map(|offset| offset.saturating_add(1)),
        }
    }

    /// How many windows are retained.
    pub(crate) fn retained(&self) -> usize {
        self.windows.len()
    }

    /// The distinct window ends retained (for diagnostics).
    #[cfg(test)]
    fn ends(&self) -> std::collections::BTreeSet<i64> {
        self.windows.keys().map(|(end, _, _)| *end).collect()
    }
}

/// The end of the epoch-aligned tumbling window of `size` containing `time` (exclusive).
pub(crate) fn window_end(time: i64, size: i64) -> i64 {
    time.div_euclid(size).saturating_add(1).saturating_mul(size)
}

#[cfg(test)]
mod tests;
