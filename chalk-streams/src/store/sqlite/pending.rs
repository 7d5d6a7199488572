//! Features accepted and not yet written: the SQLite store's write-behind buffer. Each feature
//! is held once, with its newest value, so a feature written often between two flushes costs
//! one statement, not one per write.

use indexmap::map::Entry;
use indexmap::IndexMap;
use std::time::Instant;

use super::rows::FeatureWrite;
use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;

/// A feature's identity: the table's unique key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PendingKey {
    namespace: &'static str,
    entity: String,
    feature: &'static str,
}

/// The value to write for a feature, and its feature time.
#[derive(Debug)]
struct PendingValue {
    value: FeatureValue,
    time: Timestamp,
}

/// The newest value accepted for each feature since the last flush.
#[derive(Debug, Default)]
pub(super) struct PendingFeatures {
    features: IndexMap<PendingKey, PendingValue, foldhash::fast::RandomState>,
}

impl PendingFeatures {
    /// How many features wait.
    pub(super) fn len(&self) -> usize {
        self.features.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Takes the keys and values of `row`, keeping for each feature what writing every row in
    /// the order accepted would leave: the newest by feature time, the later of equals. The
    /// row keeps its (emptied) value list.
    pub(super) fn accept(&mut self, row: &mut FeatureRow) {
        let time = row.time;
        let count = row.values.len();
        for (index, (feature, value)) in row.values.drain(..).enumerate() {
            // The last feature takes the key; the others copy it.
            let entity = if index + 1 == count {
                std::mem::take(&mut row.primary_key)
            } else {
                row.primary_key.clone()
            };
            let key = PendingKey {
                namespace: row.namespace,
                entity,
                feature,
            };
            self.keep_newer(key, PendingValue { value, time });
        }
    }

    /// Puts back what a failed flush took, under what was accepted since, which came later.
    pub(super) fn put_back(&mut self, taken: &mut PendingFeatures) {
        for (key, value) in taken.features.drain(..) {
            match self.features.entry(key) {
                Entry::Occupied(mut later) => {
                    if value.time > later.get().time {
                        later.insert(value);
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
            }
        }
    }

    fn keep_newer(&mut self, key: PendingKey, value: PendingValue) {
        match self.features.entry(key) {
            Entry::Occupied(mut earlier) => {
                if value.time >= earlier.get().time {
                    earlier.insert(value);
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
        }
    }

    /// Each feature's write.
    pub(super) fn writes(&self) -> impl Iterator<Item = FeatureWrite<'_>> {
        self.features.iter().map(|(key, value)| FeatureWrite {
            namespace: key.namespace,
            entity: &key.entity,
            feature: key.feature,
            value: &value.value,
            time: value.time,
        })
    }

    /// Forgets every feature, keeping the table's room.
    pub(super) fn clear(&mut self) {
        self.features.clear();
    }
}

/// What writers and the connection's thread share.
#[derive(Debug, Default)]
pub(super) struct PendingState {
    pub(super) features: PendingFeatures,
    /// The ticket of the last batch accepted.
    pub(super) accepted: u64,
    /// When the oldest waiting feature was accepted.
    pub(super) since: Option<Instant>,
    /// Why the last flush failed, until one succeeds.
    pub(super) failing: Option<String>,
    /// Whether the connection's thread has ended: nothing accepted would be written.
    pub(super) stopped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, values: &[(&'static str, i64)], millis: i64) -> FeatureRow {
        FeatureRow {
            namespace: "user",
            primary_key: key.to_owned(),
            values: values
                .iter()
                .map(|(name, v)| (*name, FeatureValue::Int(*v)))
                .collect(),
            time: Timestamp::from_millis(millis),
        }
    }

    fn held(pending: &PendingFeatures) -> Vec<(String, &'static str, FeatureValue, i64)> {
        let mut held: Vec<_> = pending
            .writes()
            .map(|w| {
                (
                    w.entity.to_owned(),
                    w.feature,
                    w.value.clone(),
                    w.time.as_millis(),
                )
            })
            .collect();
        held.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        held
    }

    #[test]
    fn keeps_per_feature_the_newest_value_and_the_later_of_equals() {
        let mut pending = PendingFeatures::default();
        for mut r in [
            row("a", &[("age", 1), ("score", 10)], 100),
            row("a", &[("age", 2)], 50),
            row("a", &[("score", 11)], 100),
            row("b", &[("age", 7)], 100),
        ] {
            pending.accept(&mut r);
            assert!(r.values.is_empty(), "the row's values were taken");
        }
        assert_eq!(
            held(&pending),
            [
                ("a".into(), "age", FeatureValue::Int(1), 100),
                ("a".into(), "score", FeatureValue::Int(11), 100),
                ("b".into(), "age", FeatureValue::Int(7), 100),
            ]
        );
    }

    #[test]
    fn what_a_failed_flush_put_back_yields_to_later_values_of_equal_time() {
        let mut taken = PendingFeatures::default();
        taken.accept(&mut row("a", &[("age", 1)], 100));
        taken.accept(&mut row("b", &[("age", 1)], 100));
        taken.accept(&mut row("c", &[("age", 1)], 300));
        let mut since = PendingFeatures::default();
        since.accept(&mut row("a", &[("age", 2)], 100));
        since.accept(&mut row("c", &[("age", 2)], 200));
        since.put_back(&mut taken);
        assert!(taken.is_empty());
        assert_eq!(
            held(&since),
            [
                ("a".into(), "age", FeatureValue::Int(2), 100),
                ("b".into(), "age", FeatureValue::Int(1), 100),
                ("c".into(), "age", FeatureValue::Int(1), 300),
            ]
        );
    }
}
