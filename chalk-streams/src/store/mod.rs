//! Where features land: the [`FeatureStore`] trait and its implementations.
//!
//! Every store keeps, per entity and feature, the value with the newest feature time: a write
//! whose feature time is older than the stored one is ignored, so a late or replayed message
//! never clobbers fresher data. Equal times replace, so a recomputed value wins.

mod config;
mod durability;
mod memory;
mod redis;
mod redis_connection;
mod redis_limits;
mod redis_part;
mod redis_url;
mod sqlite;
pub(crate) mod text;
mod typed;

use std::collections::BTreeMap;

use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;

pub use self::redis::RedisStore;
pub use config::{StoreConfig, StoreConfigError, DEFAULT_SQLITE_FILE, STORE_VAR};
pub use durability::{DurableMark, WriteTicket};
pub use memory::MemoryStore;
pub(crate) use redis_url::redacted;
pub use sqlite::SqliteStore;
pub use typed::{FeatureStoreExt, ReadError, Stored};

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or failed for a passing reason. The runtime retries with
    /// back-off; the partition waits and nothing is committed past the unwritten messages.
    #[error("feature store unavailable: {0}")]
    Unavailable(String),
    /// The store refuses these rows and always will (e.g. a value it cannot hold). The runtime
    /// writes the batch's messages one by one and fails those refused, in phase `store`.
    #[error("feature store rejected the write: {0}")]
    Rejected(String),
    /// A stored feature cannot be read back (its value does not decode as its stored type, or
    /// its type or time is missing): the data, not the store's availability, is at fault, and
    /// reading again gives the same answer.
    #[error("unreadable stored feature: {0}")]
    Unreadable(String),
}

/// A feature value with the feature time it was observed at.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredFeature {
    /// The value.
    pub value: FeatureValue,
    /// Its feature time.
    pub time: Timestamp,
}

/// Everything stored about one entity.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entity {
    /// The entity's namespace, e.g. `user`.
    pub namespace: String,
    /// Its primary key.
    pub key: String,
    /// Its features by name.
    pub features: BTreeMap<String, StoredFeature>,
}

/// A feature store: batched writes, reads by entity.
#[async_trait::async_trait]
pub trait FeatureStore: Send + Sync + 'static {
    /// Writes a batch of rows atomically with respect to the newer-time rule: for each feature,
    /// the value is replaced only if the row's time is not older than the stored one. When this
    /// returns `Ok`, the batch is durable (as durable as the store is), and so is every batch
    /// [`write_behind`](Self::write_behind) accepted before it: the runtime retries a batch
    /// `write_behind` refused as unavailable with `write`, and then commits its offsets, which
    /// may follow another partition worker's batches still in the store's buffer.
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError>;

    /// Writes a batch the caller has no further use for once it is written, as
    /// [`write`](Self::write) does; the runtime's first attempt at each batch of a window
    /// stream comes here (and, by default, a mapping stream's, through
    /// [`write_behind`](Self::write_behind)). A store that keeps values in memory may move keys
    /// and values out of `rows` instead of copying them, but only when it returns `Ok`: on an
    /// error `rows` must be as they were, because the runtime retries them. By default, writes
    /// them by reference.
    async fn write_taking(&self, rows: &mut [FeatureRow]) -> Result<(), StoreError> {
        self.write(rows).await
    }

    /// Accepts a batch to be made durable soon, with others, rather than before this returns;
    /// the runtime's first attempt at each batch of a mapping stream comes here. On `Ok`, reads
    /// through the store already see the batch, and the batch is durable once
    /// [`durable_mark`](Self::durable_mark) reaches the ticket; the runtime commits the batch's
    /// offsets only then. The rows may be taken as by [`write_taking`](Self::write_taking), and
    /// on an error must be as they were. A store must refuse here, not later, what it would
    /// refuse to write: once accepted, a batch can only wait for the store. A batch with
    /// nothing to write (no rows, or rows without values) is durable once every batch
    /// accepted before it is: the runtime asks for its ticket too, since earlier batches may
    /// hold rows of the same messages, read before a rebalance. By default, writes
    /// the batch durably with `write_taking`. A store that wraps another forwards this,
    /// `durable_mark` and `flush` together or none of them: a forwarded ticket with no mark
    /// would count as durable at once.
    async fn write_behind(&self, rows: &mut [FeatureRow]) -> Result<WriteTicket, StoreError> {
        self.write_taking(rows).await.map(|()| WriteTicket::DURABLE)
    }

    /// The newest ticket of [`write_behind`](Self::write_behind) whose write is durable, as it
    /// moves on; `None` (the default) for a store whose writes are durable when they return.
    fn durable_mark(&self) -> Option<DurableMark> {
        None
    }

    /// Makes every write accepted so far durable before it returns. By default there is nothing
    /// to do.
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether the store answers now. `run` asks once at start, to say at once that a store is
    /// down rather than at the first write. By default, yes: a store that cannot be down (in
    /// memory) or that failed already when opened (a file) need not override it.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The entity `key` in `namespace`, if anything is stored for it.
    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError>;

    /// Every stored entity, ordered by namespace and key (for small stores and tooling).
    async fn scan(&self) -> Result<Vec<Entity>, StoreError>;
}

/// A row of the `user` namespace with integer features, for the stores' unit tests.
#[cfg(test)]
pub(crate) fn int_row(key: &str, values: &[(&'static str, i64)], millis: i64) -> FeatureRow {
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
