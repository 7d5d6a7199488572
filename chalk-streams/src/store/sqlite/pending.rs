//! Features accepted and not yet written: the SQLite store's write-behind buffer. Each feature
//! is held once, with its newest value, so a feature written often between two flushes costs
//! one statement, not one per write.

use indexmap::map::Entry;
use indexmap::IndexMap;
use std::time::Instant;

use super::rows::FeatureWrite;
use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;
use crate::store::{text, Entity, StoredFeature};

/// A feature's identity: the table's unique key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PendingKey {
    namespace: &'static str,
    entity: String,
    feature: &'static str,
}

/// A [`PendingKey`] borrowed, to look one up: its fields hash as the key's do.
#[derive(Hash)]
struct PendingKeyRef<'a> {
    namespace: &'a str,
    entity: &'a str,
    feature: &'a str,
}

impl indexmap::Equivalent<PendingKey> for PendingKeyRef<'_> {
    fn equivalent(&self, key: &PendingKey) -> bool {
        self.namespace == key.namespace && self.entity == key.entity && self.feature == key.feature
    }
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
    /// The (namespace, feature) names held, to find an entity's features without a scan: a
    /// stream's rows share a few names.
    names: Vec<(&'static str, &'static str)>,
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
            self.note_name(row.namespace, feature);
            let key = PendingKey {
                namespace: row.namespace,
                entity,
                feature,
            };
            self.keep_newer(key, PendingValue { value, time });
        }
    }

    fn note_name(&mut self, namespace: &'static str, feature: &'static str) {
        // Most rows repeat the last name: compared by address first.
        let same = |&(n, f): &(&'static str, &'static str)| {
            (std::ptr::eq(n, namespace) || n == namespace)
                && (std::ptr::eq(f, feature) || f == feature)
        };
        if !self.names.last().is_some_and(same) && !self.names.iter().any(same) {
            self.names.push((namespace, feature));
        }
    }

    /// Lays the features held over `entities`, read from the file (one entity, `filter`, or
    /// every entity, in order): what writing them would leave, a feature replaced where the one
    /// held is not older.
    pub(super) fn overlay(&self, filter: Option<(&str, &str)>, entities: &mut Vec<Entity>) {
        if self.features.is_empty() {
            return;
        }
        match filter {
            Some((namespace, key)) => {
                for &(held_namespace, feature) in &self.names {
                    if held_namespace != namespace {
                        continue;
                    }
                    let held = self.features.get(&PendingKeyRef {
                        namespace,
                        entity: key,
                        feature,
                    });
                    if let Some(held) = held {
                        overlay_feature(entities, namespace, key, feature, held);
                    }
                }
            }
            None => {
                let mut by_key: std::collections::BTreeMap<(String, String), Entity> = entities
                    .drain(..)
                    .map(|e| ((e.namespace.clone(), e.key.clone()), e))
                    .collect();
                for (key, held) in &self.features {
                    let entity = by_key
                        .entry((key.namespace.to_owned(), key.entity.clone()))
                        .or_insert_with(|| Entity {
                            namespace: key.namespace.to_owned(),
                            key: key.entity.clone(),
                            features: Default::default(),
                        });
                    replace_if_not_older(entity, key.feature, held);
                }
                entities.extend(by_key.into_values());
            }
        }
    }

    /// Puts back what a failed flush took, under what was accepted since, which came later.
    pub(super) fn put_back(&mut self, taken: &mut PendingFeatures) {
        for name in taken.names.drain(..) {
            self.note_name(name.0, name.1);
        }
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
        self.names.clear();
    }
}

/// Lays `held` over the feature of the one entity `entities` may hold, adding the entity.
fn overlay_feature(
    entities: &mut Vec<Entity>,
    namespace: &str,
    key: &str,
    feature: &str,
    held: &PendingValue,
) {
    if entities.is_empty() {
        entities.push(Entity {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            features: Default::default(),
        });
    }
    replace_if_not_older(&mut entities[0], feature, held);
}

/// `value` as a read of the file gives it back once written: a list goes through JSON, where a
/// timestamp in it becomes its text, so a read says the same before and after the write.
fn as_read_back(value: &FeatureValue) -> FeatureValue {
    match value {
        FeatureValue::List(_) => text::to_text(value)
            .ok()
            .and_then(|json| text::from_text(value.type_name(), &json).ok())
            .unwrap_or_else(|| value.clone()),
        _ => value.clone(),
    }
}

fn replace_if_not_older(entity: &mut Entity, feature: &str, held: &PendingValue) {
    let stored = entity.features.get(feature);
    if stored.is_none_or(|stored| held.time >= stored.time) {
        entity.features.insert(
            feature.to_owned(),
            StoredFeature {
                value: as_read_back(&held.value),
                time: held.time,
            },
        );
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
    use crate::store::int_row as row;

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

    fn entity(key: &str, features: &[(&str, i64, i64)]) -> Entity {
        Entity {
            namespace: "user".to_owned(),
            key: key.to_owned(),
            features: features
                .iter()
                .map(|&(name, value, millis)| {
                    let stored = StoredFeature {
                        value: FeatureValue::Int(value),
                        time: Timestamp::from_millis(millis),
                    };
                    (name.to_owned(), stored)
                })
                .collect(),
        }
    }

    #[test]
    fn what_is_held_is_laid_over_what_was_read_where_it_is_not_older() {
        let mut pending = PendingFeatures::default();
        pending.accept(&mut row("a", &[("age", 2), ("score", 5)], 100));
        pending.accept(&mut row("c", &[("age", 9)], 100));
        // One entity: a feature held replaces the file's unless the file's is newer.
        let mut read = vec![entity(
            "a",
            &[("age", 1, 100), ("score", 4, 200), ("x", 0, 1)],
        )];
        pending.overlay(Some(("user", "a")), &mut read);
        assert_eq!(
            read,
            [entity(
                "a",
                &[("age", 2, 100), ("score", 4, 200), ("x", 0, 1)]
            )]
        );
        // An entity only held, read alone or with the rest, in order.
        let mut read = Vec::new();
        pending.overlay(Some(("user", "c")), &mut read);
        assert_eq!(read, [entity("c", &[("age", 9, 100)])]);
        let mut read = vec![entity("b", &[("age", 3, 1)])];
        pending.overlay(None, &mut read);
        assert_eq!(
            read,
            [
                entity("a", &[("age", 2, 100), ("score", 5, 100)]),
                entity("b", &[("age", 3, 1)]),
                entity("c", &[("age", 9, 100)]),
            ]
        );
        let mut read = Vec::new();
        pending.overlay(Some(("order", "a")), &mut read);
        assert!(read.is_empty(), "another namespace's entity");
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
