//! An in-memory feature store, for tests, the embedded demo and benchmarks.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::{Entity, FeatureStore, StoreError, StoredFeature};
use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;

type Features = BTreeMap<String, StoredFeature>;
/// Namespace → primary key → features. Looked up by `&str`, so that writing to an entity that
/// exists allocates nothing but the new values.
type Entities = HashMap<String, HashMap<String, Features>>;

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

/// The features of `key` in `namespace`, created empty if absent.
fn features_of<'a>(entities: &'a mut Entities, namespace: &str, key: &str) -> &'a mut Features {
    if !entities.contains_key(namespace) {
        entities.insert(namespace.to_owned(), HashMap::new());
    }
    let keys = entities
        .get_mut(namespace)
        .unwrap_or_else(|| unreachable!("inserted above"));
    if !keys.contains_key(key) {
        keys.insert(key.to_owned(), Features::new());
    }
    keys.get_mut(key)
        .unwrap_or_else(|| unreachable!("inserted above"))
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
            let features = features_of(&mut entities, row.namespace, &row.primary_key);
            for (name, value) in &row.values {
                set_if_fresher(features, name, value, row.time);
            }
        }
        Ok(())
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        let entities = self.lock()?;
        Ok(entities
            .get(namespace)
            .and_then(|keys| keys.get(key))
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
