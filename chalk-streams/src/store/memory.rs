//! An in-memory feature store, for tests and the embedded demo.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Entity, FeatureStore, StoreError, StoredFeature};
use crate::features::FeatureRow;

type Key = (String, String);
type Entities = BTreeMap<Key, BTreeMap<String, StoredFeature>>;

/// A feature store in a `BTreeMap` behind a mutex. Nothing survives the process.
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

#[async_trait::async_trait]
impl FeatureStore for MemoryStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        let mut entities = self.lock()?;
        for row in rows {
            let features = entities
                .entry((row.namespace.to_owned(), row.primary_key.clone()))
                .or_default();
            for (name, value) in &row.values {
                let fresher = features
                    .get(*name)
                    .is_none_or(|stored| stored.time <= row.time);
                if fresher {
                    features.insert(
                        (*name).to_owned(),
                        StoredFeature {
                            value: value.clone(),
                            time: row.time,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        let entities = self.lock()?;
        Ok(entities
            .get(&(namespace.to_owned(), key.to_owned()))
            .map(|features| Entity {
                namespace: namespace.to_owned(),
                key: key.to_owned(),
                features: features.clone(),
            }))
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        let entities = self.lock()?;
        Ok(entities
            .iter()
            .map(|((namespace, key), features)| Entity {
                namespace: namespace.clone(),
                key: key.clone(),
                features: features.clone(),
            })
            .collect())
    }
}
