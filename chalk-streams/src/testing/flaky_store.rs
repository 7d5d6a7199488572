//! A feature store that fails on purpose, for testing what happens when the store is down.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::features::FeatureRow;
use crate::store::{Entity, FeatureStore, MemoryStore, StoreError};

/// Decides whether the store refuses a row for good.
type RejectFn = dyn Fn(&FeatureRow) -> bool + Send + Sync;

/// An in-memory store that can be taken down, and that can refuse chosen rows.
#[derive(Default)]
pub struct FlakyStore {
    inner: MemoryStore,
    down: AtomicBool,
    failures_left: AtomicU64,
    failed_writes: AtomicU64,
    failed: Notify,
    reject: Mutex<Option<Box<RejectFn>>>,
}

impl FlakyStore {
    /// A store that works until told otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the store down (every write fails as unavailable) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Makes the next `n` writes fail as unavailable.
    pub fn fail_next(&self, n: u64) {
        self.failures_left.store(n, Ordering::SeqCst);
    }

    /// Refuses for good (as [`StoreError::Rejected`]) every batch holding a row for which
    /// `reject` is true.
    pub fn reject_rows(&self, reject: impl Fn(&FeatureRow) -> bool + Send + Sync + 'static) {
        *self
            .reject
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Box::new(reject));
    }

    /// How many writes have failed so far.
    pub fn failed_writes(&self) -> u64 {
        self.failed_writes.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` writes have failed. It waits as long as that takes: if the
    /// stream may write nothing (its messages late, or another store given to the runtime),
    /// bound the wait with `tokio::time::timeout`.
    pub async fn wait_for_failed_writes(&self, n: u64) {
        loop {
            let failed = self.failed.notified();
            tokio::pin!(failed);
            failed.as_mut().enable();
            if self.failed_writes() >= n {
                return;
            }
            failed.await;
        }
    }

    fn fail(&self, error: StoreError) -> Result<(), StoreError> {
        self.failed_writes.fetch_add(1, Ordering::SeqCst);
        self.failed.notify_waiters();
        Err(error)
    }
}

#[async_trait::async_trait]
impl FeatureStore for FlakyStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        let scheduled_failure = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if self.down.load(Ordering::SeqCst) || scheduled_failure {
            return self.fail(StoreError::Unavailable("the test store is down".into()));
        }
        let rejected = {
            let reject = self
                .reject
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            reject.as_ref().is_some_and(|r| rows.iter().any(r))
        };
        if rejected {
            return self.fail(StoreError::Rejected(
                "the test store refuses this row".into(),
            ));
        }
        self.inner.write(rows).await
    }

    /// Unavailable while the store is down.
    async fn ping(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("the test store is down".into()));
        }
        Ok(())
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        self.inner.entity(namespace, key).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        self.inner.scan().await
    }
}
