//! The row ids of features written before, so that the next write of a feature finds its row by
//! id instead of searching the key index.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

/// How many features' row ids are kept: as many as a hash table of 2^20 slots holds (7 in 8), so
/// that the map never takes more than about 17 MB. When it is full it starts over: a forgotten
/// id costs one search of the key index, as if it had never been kept.
const CAPACITY: usize = (1 << 20) / 8 * 7;

/// Feature → row id of the `features` table, by a hash of the feature's key.
///
/// An id is only a hint: the update that uses it also checks the row's key, and an update that
/// changes nothing (the row is gone, holds another feature, or is newer) falls back to the
/// upsert by key. So the map keeps hashes, not keys (no allocation, one probe per lookup), and
/// neither two keys with one hash, nor an id kept from a rolled-back transaction or from a row
/// another connection deleted, can misplace a write.
#[derive(Debug, Default)]
pub(super) struct RowIds {
    hasher: foldhash::quality::RandomState,
    ids: HashMap<u64, i64, foldhash::fast::RandomState>,
}

/// A feature's key, borrowed from the row being written.
#[derive(Debug, Hash, Clone, Copy)]
pub(super) struct FeatureKey<'a> {
    pub(super) namespace: &'static str,
    pub(super) entity: &'a str,
    pub(super) feature: &'static str,
}

impl RowIds {
    /// The row id last seen for `key` (or for a key with the same hash).
    pub(super) fn get(&self, key: FeatureKey<'_>) -> Option<i64> {
        self.ids.get(&self.hasher.hash_one(key)).copied()
    }

    /// Keeps `id` as the row of `key`.
    pub(super) fn insert(&mut self, key: FeatureKey<'_>, id: i64) {
        if self.ids.len() >= CAPACITY {
            self.ids.clear();
        }
        self.ids.insert(self.hasher.hash_one(key), id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(entity: &str) -> FeatureKey<'_> {
        FeatureKey {
            namespace: "user",
            entity,
            feature: "color",
        }
    }

    #[test]
    fn finds_what_it_kept_and_nothing_else() {
        let mut ids = RowIds::default();
        ids.insert(key("a"), 7);
        assert_eq!(ids.get(key("a")), Some(7));
        assert_eq!(ids.get(key("b")), None);
        let other_feature = FeatureKey {
            feature: "age",
            ..key("a")
        };
        assert_eq!(ids.get(other_feature), None);
    }

    #[test]
    fn starts_over_when_full() {
        let mut ids = RowIds::default();
        let entities: Vec<String> = (0..=CAPACITY).map(|i| i.to_string()).collect();
        for (id, entity) in entities[..CAPACITY].iter().enumerate() {
            ids.insert(key(entity), id as i64);
        }
        assert_eq!(
            ids.ids.capacity(),
            CAPACITY,
            "the table never grows past 2^20 slots"
        );
        ids.insert(key(&entities[CAPACITY]), CAPACITY as i64);
        assert_eq!(ids.ids.len(), 1);
        assert_eq!(ids.get(key(&entities[CAPACITY])), Some(CAPACITY as i64));
        assert_eq!(ids.get(key(&entities[0])), None);
    }
}
