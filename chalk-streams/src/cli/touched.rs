//! A store that remembers which entities were written through it, so that `run --embedded`
//! shows what this run computed and not what an earlier run left in the same file.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::features::FeatureRow;
use crate::store::{Entity, FeatureStore, StoreError};

/// `inner`, noting the namespace and key of every row written.
pub(super) struct TouchedStore {
    inner: Arc<dyn FeatureStore>,
    touched: Mutex<BTreeSet<(&'static str, String)>>,
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

    /// The entities of `rows`, to note once their write succeeds (none once noting stopped).
    fn keys(&self, rows: &[FeatureRow]) -> Vec<(&'static str, String)> {
        if self.done.load(Ordering::Relaxed) {
            return Vec::new();
        }
        rows.iter()
            .map(|row| (row.namespace, row.primary_key.clone()))
            .collect()
    }

    fn note(
        &self,
        written: Result<(), StoreError>,
        keys: Vec<(&'static str, String)>,
    ) -> Result<(), StoreError> {
        if written.is_ok() {
            self.touched
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(keys);
        }
        written
    }

    /// The entities written through this store so far, as the store holds them now, in order.
    /// Noting stops here: streams that keep running do not grow the set any more.
    pub(super) async fn entities(&self) -> Result<Vec<Entity>, StoreError> {
        self.done.store(true, Ordering::Relaxed);
        let touched =
            std::mem::take(&mut *self.touched.lock().unwrap_or_else(PoisonError::into_inner));
        let mut entities = Vec::with_capacity(touched.len());
        for (namespace, key) in touched {
            entities.extend(self.inner.entity(namespace, &key).await?);
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

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        self.inner.entity(namespace, key).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        self.inner.scan().await
    }
}
