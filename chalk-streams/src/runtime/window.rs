//! Tumbling windows for window streams: which window a message falls in, when a window is due to
//! fire (or fire again, after a late message), when its state may be dropped, and how far the
//! partition's offset may be committed while windows still need their messages.
//!
//! Crash-correctness by replay: the offset committed is never past the first message of a
//! window that is still retained, so after a crash the window is rebuilt from Kafka and fires
//! again with the same content. The cost is replaying up to `window size + retention` of messages
//! at start-up; nothing is persisted besides the offsets.
//!
//! For the same content, whether a message is late is decided by its window alone: it is late
//! once its window ended more than the late-arrival deadline ago (the deadline is a grace period
//! after the window's end, as in Kafka Streams). Judged by the message's own age instead, a
//! replay after a restart would see the window's first messages older than at their first
//! reading, skip them, and fire the window again with only the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use std::time::Duration;

use crate::duration::{parse_duration, LateArrivalDeadline};
use crate::message::{Headers, RawHeaders, RawMessage, Timestamp};
use crate::resolver::{MessageError, Phase};

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
        }
    }

    /// Whether a message with this event time can still be placed in a retained window.
    pub(crate) fn accepts(&self, event_time: Timestamp, now: Timestamp) -> bool {
        self.sizes.iter().any(|size| {
            let end = window_end(event_time.as_millis(), size.millis);
            end.saturating_add(self.retention) > now.as_millis()
        })
    }

    /// Whether `event_time` is further ahead of `now` than a window is kept after its end. Such
    /// a message (a timestamp in microseconds, say) would keep its window, and so hold back the
    /// partition's commits, until the clock reaches it.
    pub(crate) fn too_far_ahead(&self, event_time: Timestamp, now: Timestamp) -> bool {
        event_time.as_millis() > now.as_millis().saturating_add(self.retention)
    }

    /// The failure of a message `too_far_ahead`: it fails in phase `parse`, as bad input.
    pub(crate) fn too_far_ahead_error(&self, event_time: Timestamp) -> MessageError {
        let lead = Duration::from_millis(u64::try_from(self.retention).unwrap_or(0));
        MessageError::new(
            Phase::Parse,
            format!(
                "timestamp {event_time} is more than {lead:?} ahead of the clock: its window \
                 would hold back the partition's commits until then"
            ),
        )
    }

    /// Records that `offset` was handled without entering a window (skipped or failed).
    pub(crate) fn pass(&mut self, offset: i64) {
        self.last_seen = Some(self.last_seen.map_or(offset, |o| o.max(offset)));
    }

    /// Adds a message to its window of every size (those still retained).
    pub(crate) fn insert(&mut self, record: OwnedRecord, event_time: Timestamp, now: Timestamp) {
        let record = Arc::new(record);
        let key = record.key.clone();
        for (index, size) in self.sizes.iter().enumerate() {
            let end = window_end(event_time.as_millis(), size.millis);
            if end.saturating_add(self.retention) <= now.as_millis() {
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
        self.windows
            .keys()
            .next()
            .map(|(end, _, _)| Timestamp::from_millis(end.saturating_add(self.retention)))
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
            if entry.key().0.saturating_add(self.retention) > now.as_millis() {
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

    /// The last offset that may be stored for commit: below the first message of every retained
    /// window, else the last handled.
    pub(crate) fn committable(&self) -> Option<i64> {
        match self.pinned.keys().next() {
            Some(first_needed) => Some(first_needed - 1).filter(|o| *o >= 0),
            None => self.last_seen,
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
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn record(offset: i64, key: &str) -> OwnedRecord {
        OwnedRecord {
            offset,
            key: Some(key.as_bytes().to_vec()),
            payload: Some(b"{}".to_vec()),
            timestamp: None,
            headers: Headers::new(),
        }
    }

    fn ts(minutes: i64) -> Timestamp {
        Timestamp::from_millis(minutes * MIN)
    }

    fn book(retention_minutes: i64) -> WindowBook {
        WindowBook::new(
            vec![WindowSize {
                millis: 10 * MIN,
                label: "10m",
            }],
            retention_minutes * MIN,
        )
    }

    #[test]
    fn windows_are_epoch_aligned() {
        assert_eq!(window_end(0, 10), 10);
        assert_eq!(window_end(9, 10), 10);
        assert_eq!(window_end(10, 10), 20);
        assert_eq!(window_end(-1, 10), 0);
    }

    #[test]
    fn a_window_is_due_once_its_end_passes_and_again_after_a_late_message() {
        let mut b = book(30);
        b.insert(record(0, "a"), ts(1), ts(1));
        b.insert(record(1, "a"), ts(2), ts(2));
        b.insert(record(2, "b"), ts(3), ts(3));
        assert!(b.due(ts(9)).is_empty());
        assert_eq!(b.next_due(), Some(ts(10)));
        let due = b.due(ts(10));
        assert_eq!(due.len(), 2, "one window per key");
        for id in &due {
            b.fired(id);
        }
        assert!(b.due(ts(11)).is_empty());
        assert_eq!(b.next_due(), None);
        // Late, within retention: the same window is due again, with all three of its messages.
        b.insert(record(3, "a"), ts(5), ts(12));
        let due = b.due(ts(12));
        assert_eq!(due, vec![(10 * MIN, 0, Some(b"a".to_vec()))]);
        let (records, _, fired_before) = b.window(&due[0]).expect("retained");
        assert!(fired_before);
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, [0, 1, 3]);
    }

    #[test]
    fn commits_stop_before_the_first_message_of_a_retained_window() {
        let mut b = book(30);
        b.pass(0);
        assert_eq!(b.committable(), Some(0));
        b.insert(record(1, "a"), ts(1), ts(1));
        b.insert(record(2, "a"), ts(12), ts(12));
        assert_eq!(
            b.committable(),
            Some(0),
            "window [0,10) still needs offset 1"
        );
        assert_eq!(b.expire(ts(39)), 0);
        assert_eq!(b.expire(ts(40)), 1, "end 10 + retention 30");
        assert_eq!(b.committable(), Some(1), "window [10,20) needs offset 2");
        assert_eq!(b.expire(ts(50)), 1);
        assert_eq!(b.committable(), Some(2));
        assert_eq!(b.retained(), 0);
    }

    #[test]
    fn a_message_further_ahead_than_the_retention_is_too_far_ahead() {
        let b = book(30);
        assert!(!b.too_far_ahead(ts(30), ts(0)));
        let just_beyond = Timestamp::from_millis(30 * MIN + 1);
        assert!(b.too_far_ahead(just_beyond, ts(0)));
        assert!(b.too_far_ahead(Timestamp::from_millis(i64::MAX), ts(0)));
        let error = b.too_far_ahead_error(just_beyond);
        assert_eq!(error.phase, Phase::Parse);
    }

    #[test]
    fn a_window_dropped_before_it_fired_is_no_longer_due() {
        let mut b = book(30);
        b.insert(record(0, "a"), ts(1), ts(1));
        b.insert(record(1, "b"), ts(21), ts(21));
        assert_eq!(b.expire(ts(40)), 1);
        assert_eq!(b.due(ts(40)), vec![(30 * MIN, 0, Some(b"b".to_vec()))]);
        assert_eq!(b.next_due(), Some(ts(30)));
        assert_eq!(b.expire(ts(60)), 1);
        assert!(b.due(ts(60)).is_empty());
        assert_eq!(b.next_due(), None);
        assert_eq!(b.committable(), Some(1));
    }

    #[test]
    fn messages_without_a_key_and_with_an_empty_key_have_windows_apart() {
        let mut b = book(30);
        let unkeyed = OwnedRecord {
            key: None,
            ..record(0, "")
        };
        b.insert(unkeyed, ts(1), ts(1));
        b.insert(record(1, ""), ts(2), ts(2));
        assert_eq!(
            b.due(ts(10)),
            vec![(10 * MIN, 0, None), (10 * MIN, 0, Some(Vec::new()))]
        );
    }

    #[test]
    fn messages_beyond_retention_are_not_accepted() {
        let b = book(30);
        assert!(b.accepts(ts(5), ts(39)));
        assert!(!b.accepts(ts(5), ts(40)));
    }

    #[test]
    fn several_sizes_hold_a_message_each() {
        let mut b = WindowBook::new(
            vec![
                WindowSize {
                    millis: 10 * MIN,
                    label: "10m",
                },
                WindowSize {
                    millis: 60 * MIN,
                    label: "1h",
                },
            ],
            0,
        );
        b.insert(record(0, "k"), ts(15), ts(15));
        assert_eq!(b.ends(), [20 * MIN, 60 * MIN].into_iter().collect());
        assert_eq!(b.due(ts(20)).len(), 1);
        assert_eq!(b.due(ts(60)).len(), 2);
    }
}
