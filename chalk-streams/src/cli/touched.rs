//! A store that remembers which features were written through it, so that `run --embedded`
//! shows what this run computed and not what an earlier run left in the same file.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::features::FeatureRow;
use crate::store::{DurableMark, Entity, FeatureStore, StoreError, WriteTicket};

/// The features written, by entity (namespace and key).
type Touched = BTreeMap<(&'static str, String), BTreeSet<&'static str>>;

/// `inner`, noting the entity and features of every row written.
pub(super) struct TouchedStore {
    inner: Arc<dyn FeatureStore>,
    touched: Mutex<Touched>,
    /// Set once the entities are read: nothing more is noted.
    done: AtomicBool,
}

impl TouchedStore {
    pub(super) fn new(inner: Arc<dyn FeatureStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            touched: Mutex::default(),
            done: AtomicBool::new(false),
        })
    }

    /// The entities and features of `rows`, to note once their write succeeds (none once
    /// noting stopped).
    fn keys(&self, rows: &[FeatureRow]) -> Touched {
        let mut keys = Touched::new();
        if self.done.load(Ordering::Relaxed) {
            return keys;
        }
        for row in rows {
            keys.entry((row.namespace, row.primary_key.clone()))
                .or_default()
                .extend(row.values.iter().map(|(feature, _)| *feature));
        }
        keys
    }

    fn note<T>(&self, written: Result<T, StoreError>, keys: Touched) -> Result<T, StoreError> {
        if written.is_ok() {
            let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
            for (entity, features) in keys {
                touched.entry(entity).or_default().extend(features);
            }
        }
        written
    }

    /// The features written through this store so far, as the store holds them now, by entity
    /// in order; an entity's other features (an earlier run's, another stream's) are left out.
    /// Noting stops here: streams that keep running do not grow the set any more.
    pub(super) async fn entities(&self) -> Result<Vec<Entity>, StoreError> {
        self.done.store(true, Ordering::Relaxed);
        let touched =
            std::mem::take(&mut *self.touched.lock().unwrap_or_else(PoisonError::into_inner));
        let mut entities = Vec::with_capacity(touched.len());
        for ((namespace, key), features) in touched {
            if let Some(mut entity) = self.inner.entity(namespace, &key).await? {
                entity
                    .features
                    .retain(|name, _| features.contains(name.as_str()));
                entities.push(entity);
            }
        }
        Ok(entities)
    }
}

#[async_trait::async_trait]
impl FeatureStore for TouchedStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        let keys = self.keys(rows);
        self.note(self.inner.write(rows).await, keys)
    }

    async fn write_taking(&self, rows: &mut [FeatureRow]) -> Result<(), StoreError> {
        // Copied first: the inner store may move the keys out.
        let keys = self.keys(rows);
        self.note(self.inner.write_taking(rows).await, keys)
    }

    async fn write_behind(&self, rows: &mut [FeatureRow]) -> Result<WriteTicket, StoreError> {
        let keys = self.keys(rows);
        self.note(self.inner.write_behind(rows).await, keys)
    }

    fn durable_mark(&self) -> Option<DurableMark> {
        self.inner.durable_mark()
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        self.inner.entity(namespace, key).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        self.inner.scan().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValue;
    use crate::message::Timestamp;
    use crate::store::MemoryStore;

    fn row(feature: &'static str, value: i64) -> FeatureRow {
        FeatureRow {
            namespace: "user",
            primary_key: "u1".to_owned(),
            values: vec![(feature, FeatureValue::Int(value))],
            time: Timestamp::from_millis(1),
        }
    }

    #[tokio::test]
    async fn only_the_features_this_run_wrote_are_shown() {
        let inner = Arc::new(MemoryStore::new());
        // An earlier run (or another stream) left a feature on the same entity.
        inner.write(&[row("earlier", 1)]).await.expect("write");
        let touched = TouchedStore::new(inner);
        touched.write(&[row("now", 2)]).await.expect("write");
        let entities = touched.entities().await.expect("read");
        assert_eq!(entities.len(), 1);
        let names: Vec<&String> = entities[0].features.keys().collect();
        assert_eq!(names, ["now"]);
    }
}
