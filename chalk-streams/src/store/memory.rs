//! An in-memory feature store, for tests, the embedded demo and benchmarks.
//!
//! It is on the hot path of every benchmark and demo, so writing moves what rows bring instead
//! of copying it: a new entity takes its row's key, and its values move into a list kept inline
//! in the entity's entry (for one or two features); feature names stay the
//! `&'static str` the generated code gives.

use std::collections::BTreeMap;
use std::sync::Mutex;

use indexmap::map::Entry;
use indexmap::IndexMap;
use smallvec::SmallVec;

use super::{text, Entity, FeatureStore, StoreError, StoredFeature};
use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;

/// Per namespace (a program has a handful, so a list), primary key → features.
type Entities = Vec<(&'static str, KeyMap)>;

/// Primary key → features, hashed with foldhash (hashbrown's default hasher), seeded at random
/// per map. Keys come from messages: it resists crafted collisions less than std's SipHash,
/// which is enough for a store meant for tests, demos and benchmarks, where SipHash cost about
/// 400 instructions a message and foldhash next to nothing. An `IndexMap` keeps entities in one
/// growing list and hashes into it through a table of 8-byte slots: a table of 160-byte slots
/// (features inline) missed the cache more with 100,000 entities updated at random, and boxing
/// each entity's features instead cost an allocation and a free per entity.
type KeyMap = IndexMap<String, Features, foldhash::fast::RandomState>;

/// One entity's features, in the order rows first brought them.
#[derive(Debug)]
struct Features {
    values: SmallVec<[(&'static str, FeatureValue); 2]>,
    times: Times,
}

/// The feature times of an entity's values: one for all while every value came at the same
/// time (always so for an entity written by whole rows), else one per value.
#[derive(Debug)]
enum Times {
    All(Timestamp),
    Each(Vec<Timestamp>),
}

impl Features {
    /// An entity's first row. A feature the row gives twice (rows built by hand may) is kept
    /// once, with its last value, as a later write would leave it.
    fn new(values: impl Iterator<Item = (&'static str, FeatureValue)>, time: Timestamp) -> Self {
        let mut features = Self {
            values: SmallVec::new(),
            times: Times::All(time),
        };
        for (hint, (name, value)) in values.enumerate() {
            match features.position(name, hint) {
                Some(at) => features.values[at].1 = value,
                None => features.values.push((name, value)),
            }
        }
        features
    }

    fn time(&self, at: usize) -> Timestamp {
        match &self.times {
            Times::All(time) => *time,
            Times::Each(times) => times[at],
        }
    }

    fn set_time(&mut self, at: usize, time: Timestamp) {
        match &mut self.times {
            Times::All(all) if *all == time => {}
            Times::All(all) => {
                let mut each = vec![*all; self.values.len()];
                each[at] = time;
                self.times = Times::Each(each);
            }
            Times::Each(each) => each[at] = time,
        }
    }

    /// Where `name` is. Rows of one type list their features in one order, so the row's own
    /// position is tried first.
    fn position(&self, name: &str, hint: usize) -> Option<usize> {
        match self.values.get(hint) {
            Some((stored, _)) if *stored == name => Some(hint),
            _ => self.values.iter().position(|(stored, _)| *stored == name),
        }
    }

    fn newest(&self) -> Timestamp {
        match &self.times {
            Times::All(time) => *time,
            Times::Each(times) => times
                .iter()
                .copied()
                .max()
                .unwrap_or(Timestamp::from_millis(i64::MIN)),
        }
    }

    /// Whether a row of these values at `time` replaces every stored value: the usual update,
    /// a row of the same type, newer than all that is stored.
    fn replaced_by(&self, row: &[(&'static str, FeatureValue)], time: Timestamp) -> bool {
        row.len() == self.values.len()
            && time >= self.newest()
            && row
                .iter()
                .zip(&self.values)
                .all(|((name, _), (stored, _))| name == stored)
    }

    /// Moves each of `row`'s values in unless what is stored is newer.
    fn apply(&mut self, row: &mut Vec<(&'static str, FeatureValue)>, time: Timestamp) {
        if self.replaced_by(row, time) {
            for (stored, (_, value)) in self.values.iter_mut().zip(row.drain(..)) {
                stored.1 = value;
            }
            self.times = Times::All(time);
            return;
        }
        for (hint, (name, value)) in row.drain(..).enumerate() {
            match self.position(name, hint) {
                Some(at) if self.time(at) > time => {}
                Some(at) => {
                    self.values[at].1 = value;
                    self.set_time(at, time);
                }
                None => {
                    self.values.push((name, value));
                    match &mut self.times {
                        Times::Each(each) => each.push(time),
                        Times::All(_) => self.set_time(self.values.len() - 1, time),
                    }
                }
            }
        }
    }

    fn to_map(&self) -> BTreeMap<String, StoredFeature> {
        self.values
            .iter()
            .enumerate()
            .map(|(at, (name, value))| {
                let stored = StoredFeature {
                    value: value.clone(),
                    time: self.time(at),
                };
                ((*name).to_owned(), stored)
            })
            .collect()
    }
}

/// A feature store in hash maps behind a mutex. Nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entities: Mutex<Entities>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Entities>, StoreError> {
        self.entities
            .lock()
            .map_err(|_| StoreError::Unavailable("in-memory store lock poisoned".into()))
    }
}

/// The entities of `namespace`, created empty if absent.
fn namespace<'a>(entities: &'a mut Entities, namespace: &'static str) -> &'a mut KeyMap {
    // Names come from generated constants: the same text is usually the same pointer.
    let at = match entities
        .iter()
        .position(|(name, _)| std::ptr::eq(*name, namespace) || *name == namespace)
    {
        Some(at) => at,
        None => {
            entities.push((namespace, KeyMap::default()));
            entities.len() - 1
        }
    };
    &mut entities[at].1
}

/// Moves `row`'s key and values into the store. A row without values stores nothing, as in the
/// other stores: it makes no entity.
fn write_row(entities: &mut Entities, row: &mut FeatureRow) {
    if row.values.is_empty() {
        return;
    }
    let keys = namespace(entities, row.namespace);
    match keys.entry(std::mem::take(&mut row.primary_key)) {
        Entry::Occupied(mut entity) => entity.get_mut().apply(&mut row.values, row.time),
        Entry::Vacant(entity) => {
            entity.insert(Features::new(row.values.drain(..), row.time));
        }
    }
}

#[async_trait::async_trait]
impl FeatureStore for MemoryStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        text::check_rows(rows)?;
        let mut entities = self.lock()?;
        for row in rows {
            write_row(&mut entities, &mut row.clone());
        }
        Ok(())
    }

    /// Moves keys and values into the store. The rows keep their (emptied) value lists, which
    /// the runtime reuses.
    async fn write_taking(&self, rows: &mut [FeatureRow]) -> Result<(), StoreError> {
        text::check_rows(rows)?;
        let mut entities = self.lock()?;
        for row in rows {
            write_row(&mut entities, row);
        }
        Ok(())
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        let entities = self.lock()?;
        Ok(entities
            .iter()
            .find(|(name, _)| *name == namespace)
            .and_then(|(_, keys)| keys.get(key))
            .map(|features| Entity {
                namespace: namespace.to_owned(),
                key: key.to_owned(),
                features: features.to_map(),
            }))
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        let entities = self.lock()?;
        let mut all: Vec<Entity> = entities
            .iter()
            .flat_map(|(namespace, keys)| {
                keys.iter().map(|(key, features)| Entity {
                    namespace: (*namespace).to_owned(),
                    key: key.clone(),
                    features: features.to_map(),
                })
            })
            .collect();
        all.sort_by(|a, b| (&a.namespace, &a.key).cmp(&(&b.namespace, &b.key)));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::int_row as row;

    fn stored(store: &MemoryStore, key: &str) -> Vec<(String, i64, i64)> {
        let entity = futures::executor::block_on(store.entity("user", key))
            .expect("in-memory read")
            .expect("entity stored");
        entity
            .features
            .into_iter()
            .map(|(name, f)| match f.value {
                FeatureValue::Int(v) => (name, v, f.time.as_millis()),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    /// Both ways of writing keep the newest value per feature, including rows that set only
    /// some features at times of their own.
    #[test]
    fn newest_value_per_feature_by_reference_and_by_taking() {
        for taking in [false, true] {
            let store = MemoryStore::new();
            let mut rows = vec![
                row("u1", &[("a", 1), ("b", 1)], 10),
                row("u1", &[("b", 2)], 20),
                row("u1", &[("a", 0), ("c", 3)], 5),
                row("u1", &[("c", 4)], 30),
                row("u2", &[("a", 7)], 1),
            ];
            let written = if taking {
                futures::executor::block_on(store.write_taking(&mut rows))
            } else {
                futures::executor::block_on(store.write(&rows))
            };
            written.expect("in-memory write");
            assert_eq!(
                stored(&store, "u1"),
                [
                    ("a".to_owned(), 1, 10),
                    ("b".to_owned(), 2, 20),
                    ("c".to_owned(), 4, 30)
                ],
                "taking: {taking}"
            );
            assert_eq!(stored(&store, "u2"), [("a".to_owned(), 7, 1)]);
        }
    }

    /// A hand-built row may give a feature twice: the last value counts, and a newer write
    /// replaces it, as in the other stores.
    #[test]
    fn a_feature_given_twice_in_a_row_is_kept_once() {
        let store = MemoryStore::new();
        futures::executor::block_on(store.write(&[row("u1", &[("a", 1), ("a", 2)], 1)]))
            .expect("in-memory write");
        assert_eq!(stored(&store, "u1"), [("a".to_owned(), 2, 1)]);
        futures::executor::block_on(store.write(&[row("u1", &[("a", 3)], 2)]))
            .expect("in-memory write");
        assert_eq!(stored(&store, "u1"), [("a".to_owned(), 3, 2)]);
    }
}
