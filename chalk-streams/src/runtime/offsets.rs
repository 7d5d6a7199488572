//! Which offset of a partition is safe to commit.
//!
//! A partition's worker finishes each batch before it takes the next, and tracks a batch by its
//! last offset, so completions arrive in order today. The tracker does not rely on it: the
//! committable position is the highest offset such that every offset tracked at or below it
//! has completed, whatever the order: at-least-once, never a gap.

use std::collections::VecDeque;

/// The offsets of one partition being processed, in the order received.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    /// Each tracked offset, ascending, with whether it is done. A partition's messages arrive in
    /// offset order, so tracking appends and completing finds its entry by binary search.
    pending: VecDeque<(i64, bool)>,
    committed: Option<i64>,
}

impl OffsetTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `offset` was received and is being processed.
    pub fn track(&mut self, offset: i64) {
        match self.pending.back() {
            Some(&(last, _)) if last >= offset => {
                // Out of order (not seen from Kafka, but kept correct): insert in place.
                if let Err(at) = self.pending.binary_search_by_key(&offset, |&(o, _)| o) {
                    self.pending.insert(at, (offset, false));
                }
            }
            _ => self.pending.push_back((offset, false)),
        }
    }

    /// Records that `offset` is fully processed (its outputs are durable).
    pub fn complete(&mut self, offset: i64) {
        if let Ok(at) = self.pending.binary_search_by_key(&offset, |&(o, _)| o) {
            self.pending[at].1 = true;
        }
    }

    /// How many offsets are tracked and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.pending.iter().filter(|(_, done)| !done).count()
    }

    /// The new last-processed offset to store, if it moved since the previous call: the highest
    /// completed offset below every in-flight one. Storing `o` commits `o + 1`.
    pub fn advance(&mut self) -> Option<i64> {
        let mut safe = None;
        while let Some(&(offset, true)) = self.pending.front() {
            safe = Some(offset);
            self.pending.pop_front();
        }
        let safe = safe?;
        if self.committed.is_some_and(|c| c >= safe) {
            return None;
        }
        self.committed = Some(safe);
        Some(safe)
    }
}

#[cfg(test)]
mod tests {
    use super::OffsetTracker;

    #[test]
    fn in_order_completion_advances_each_time() {
        let mut t = OffsetTracker::new();
        for o in 0..3 {
            t.track(o);
        }
        t.complete(0);
        assert_eq!(t.advance(), Some(0));
        t.complete(1);
        t.complete(2);
        assert_eq!(t.advance(), Some(2));
        assert_eq!(t.advance(), None, "nothing new to store");
    }

    #[test]
    fn out_of_order_completion_never_skips_a_gap() {
        let mut t = OffsetTracker::new();
        for o in [10, 11, 12, 13] {
            t.track(o);
        }
        t.complete(12);
        t.complete(13);
        assert_eq!(t.advance(), None, "10 and 11 are still in flight");
        t.complete(11);
        assert_eq!(t.advance(), None, "10 is still in flight");
        t.complete(10);
        assert_eq!(t.advance(), Some(13));
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn sparse_offsets_are_contiguous_by_what_was_tracked() {
        // Compacted topics and transaction markers leave holes in offsets.
        let mut t = OffsetTracker::new();
        for o in [5, 9, 20] {
            t.track(o);
        }
        t.complete(9);
        assert_eq!(t.advance(), None);
        t.complete(5);
        assert_eq!(t.advance(), Some(9));
        t.track(21);
        t.complete(21);
        assert_eq!(t.advance(), None, "20 is in flight");
        t.complete(20);
        assert_eq!(t.advance(), Some(21));
    }

    #[test]
    fn completing_an_untracked_offset_is_ignored() {
        let mut t = OffsetTracker::new();
        t.complete(3);
        assert_eq!(t.advance(), None);
    }

    proptest::proptest! {
        /// For any offsets and any order of completions, with advances in between, a stored
        /// offset never passes an unfinished message, and everything is stored in the end.
        #[test]
        fn stored_offset_never_passes_an_unfinished_message(
            gaps in proptest::collection::vec(1_i64..4, 1..60),
            order in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 60),
            advance_after in proptest::collection::vec(proptest::prelude::any::<bool>(), 60),
        ) {
            let offsets: Vec<i64> = gaps.iter().scan(0, |o, g| { *o += g; Some(*o) }).collect();
            let mut t = OffsetTracker::new();
            for &o in &offsets {
                t.track(o);
            }
            let mut pending = offsets.clone();
            let mut completed = std::collections::BTreeSet::new();
            let mut last = None;
            for (i, pick) in order.iter().enumerate() {
                if pending.is_empty() {
                    break;
                }
                let o = pending.remove(pick.index(pending.len()));
                t.complete(o);
                completed.insert(o);
                if advance_after[i] {
                    if let Some(stored) = t.advance() {
                        for &earlier in offsets.iter().filter(|&&e| e <= stored) {
                            proptest::prop_assert!(completed.contains(&earlier));
                        }
                        proptest::prop_assert!(last.is_none_or(|l| stored > l));
                        last = Some(stored);
                    }
                }
            }
            for o in pending {
                t.complete(o);
            }
            let end = t.advance().or(last);
            proptest::prop_assert_eq!(end, offsets.last().copied());
        }
    }
}
