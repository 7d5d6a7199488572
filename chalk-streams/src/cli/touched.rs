//! A store that remembers which entities were written through it, so that `run --embedded`
//! shows what this run computed and not what an earlier run left in the same file.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use crate::features::FeatureRow;
use crate::store::{Entity, FeatureStore, StoreError};

/// `inner`, noting the namespace and key of every row written.
pub(super) struct TouchedStore {
    inner: Arc<dyn FeatureStore>,
    touched: Mutex<BTreeSet<(&'static str, String)>>,
}

impl TouchedStore {
    pub(super) fn new(inner: Arc<dyn FeatureStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            touched: Mutex::default(),
        })
    }

    fn note(&self, rows: &[FeatureRow]) {
        let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
        for row in rows {
            touched.insert((row.namespace, row.primary_key.clone()));
        }
    }

    /// The entities written through this store, as the store holds them now, in order.
    pub(super) async fn entities(&self) -> Result<Vec<Entity>, StoreError> {
        let touched: Vec<(&'static str, String)> = self
            .touched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
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
        self.note(rows);
        self.inner.write(rows).await
    }

    async fn write_taking(&self, rows: &mut [FeatureRow]) -> Result<(), StoreError> {
        // Noted first: the inner store may move the keys out.
        self.note(rows);
        self.inner.write_taking(rows).await
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        self.inner.entity(namespace, key).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        self.inner.scan().await
    }
}
