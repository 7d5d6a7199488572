//! An in-memory feature store, for tests, the embedded demo and benchmarks.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::{Entity, FeatureStore, StoreError, StoredFeature};
use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;

type Features = BTreeMap<String, StoredFeature>;
/// Per namespace (a program has a handful, so a list), primary key → features. Looked up by
/// `&str`, so that writing to an entity that exists allocates nothing but the new values.
type Entities = Vec<(String, HashMap<String, Features>)>;

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
fn namespace<'a>(entities: &'a mut Entities, namespace: &str) -> &'a mut HashMap<String, Features> {
    let at = match entities.iter().position(|(name, _)| name == namespace) {
        Some(at) => at,
        None => {
            entities.push((namespace.to_owned(), HashMap::new()));
            entities.len() - 1
        }
    };
    &mut entities[at].1
}

/// Applies `row` to `features`.
fn apply(features: &mut Features, row: &FeatureRow) {
    for (name, value) in &row.values {
        set_if_fresher(features, name, value, row.time);
    }
}

/// Sets `name` to `value` unless what is stored is newer.
fn set_if_fresher(features: &mut Features, name: &str, value: &FeatureValue, time: Timestamp) {
    match features.get_mut(name) {
        Some(stored) if stored.time > time => {}
        Some(stored) => {
            stored.value.clone_from(value);
            stored.time = time;
        }
        None => {
            features.insert(
                name.to_owned(),
                StoredFeature {
                    value: value.clone(),
                    time,
                },
            );
        }
    }
}

#[async_trait::async_trait]
impl FeatureStore for MemoryStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        let mut entities = self.lock()?;
        for row in rows {
            let keys = namespace(&mut entities, row.namespace);
            match keys.get_mut(&row.primary_key) {
                Some(features) => apply(features, row),
                None => {
                    let mut features = Features::new();
                    apply(&mut features, row);
                    keys.insert(row.primary_key.clone(), features);
                }
            }
        }
        Ok(())
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        let entities = self.lock()?;
        Ok(entities
            .iter()
            .find(|(name, _)| name == namespace)
            .and_then(|(_, keys)| keys.get(key))
            .map(|features| Entity {
                namespace: namespace.to_owned(),
                key: key.to_owned(),
                features: features.clone(),
            }))
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        let entities = self.lock()?;
        let mut all: Vec<Entity> = entities
            .iter()
            .flat_map(|(namespace, keys)| {
                keys.iter().map(|(key, features)| Entity {
                    namespace: namespace.clone(),
                    key: key.clone(),
                    features: features.clone(),
                })
            })
            .collect();
        all.sort_by(|a, b| (&a.namespace, &a.key).cmp(&(&b.namespace, &b.key)));
        Ok(all)
    }
}
