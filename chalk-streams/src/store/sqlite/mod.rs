//! The embedded durable store: one SQLite file, readable with the `sqlite3` tool.
//!
//! One row per entity, key and feature:
//!
//! ```sql
//! SELECT namespace, entity_key, feature, value, value_type,
//!        strftime('%Y-%m-%dT%H:%M:%fZ', feature_time / 1000.0, 'unixepoch') AS feature_time
//! FROM features;
//! ```

mod limits;
mod pending;
mod row_ids;
mod rows;
mod server;
mod thread;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use super::{DurableMark, Entity, FeatureStore, StoreError, WriteTicket};
use crate::features::FeatureRow;
use row_ids::RowIds;
use thread::ConnectionThread;

/// Rows have ids, and the key is a unique index: a feature written before is updated by its id,
/// which the store remembers, and rewritten in place (see `rows::UPDATE_BY_ID`). The key starts
/// with `entity_key`, which tells rows apart at once, rather than `namespace`, which most rows
/// share: SQLite compares the first column on a fast path. Files made with the earlier tables
/// keyed by `(namespace, entity_key, feature)` or `(entity_key, namespace, feature)`, without
/// row ids, work the same, with every write an upsert by key.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS features (
    id           INTEGER PRIMARY KEY,
    namespace    TEXT    NOT NULL,
    entity_key   TEXT    NOT NULL,
    feature      TEXT    NOT NULL,
    value,                         -- no declared type: stored exactly as written
    value_type   TEXT    NOT NULL,
    feature_time INTEGER NOT NULL, -- milliseconds since the Unix epoch
    UNIQUE (entity_key, namespace, feature)
);
";

/// The page size of a new store file (SQLite's default is 4 KiB; an existing file keeps its
/// own). Upserts at random keys took 16-17% less CPU time with 16 KiB pages than with 4 KiB in
/// the throughput benchmark, on both brokers; 64 KiB took 23-26% less, but a commit writes each
/// page it changed whole to the write-ahead log, and a log of 1,000 such pages is 64 MB.
const PAGE_SIZE: u32 = 16 * 1024;

/// A feature store in one SQLite file, written on a thread of the store's own, which owns the
/// connection; clones share it. Every transaction is durable (`synchronous = FULL`, write-ahead
/// log) when it commits.
///
/// A mapping stream's batches are written behind ([`FeatureStore::write_behind`]): each is
/// accepted at once, and what was accepted is written in one transaction a flush interval after
/// the first of it (1 s by default), with one statement per feature however often it was written
/// meanwhile; sooner when the buffer is full, before a durable write, on
/// [`flush`](FeatureStore::flush), and, on the store's thread, after the last handle is dropped.
/// Reads through the store see what was accepted, laid over the file. The batches' offsets are
/// committed only once they are written. While writing fails, the store refuses new batches as
/// unavailable and retries with a growing delay; reads are still answered (one that comes while
/// a retry waits on a file another process has locked waits with it). Other writes are durable
/// before they return; those that arrive while another is being written share the next
/// transaction (one fsync for all).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    path: PathBuf,
    connection: Arc<ConnectionThread>,
    /// Whether batches are written behind (a flush interval above zero).
    writes_behind: bool,
}

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn classify(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation | rusqlite::ErrorCode::TooBig) => {
            StoreError::Rejected(error.to_string())
        }
        _ => unavailable(error),
    }
}

/// Whether `error` is [`classify`]'s for a file another connection holds locked (past the
/// busy timeout): SQLite's fixed texts for `SQLITE_BUSY` and `SQLITE_LOCKED`.
fn is_locked(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(why)
        if why.contains("database is locked") || why.contains("database table is locked"))
}

/// `error`, naming the store file if the store is unavailable: the runtime logs it at every
/// retry, where the file is what an operator looks at (locked, full disk, permissions).
fn in_file(path: &Path, error: StoreError) -> StoreError {
    match error {
        StoreError::Unavailable(why) => {
            StoreError::Unavailable(format!("{}: {why}", path.display()))
        }
        other => other,
    }
}

impl SqliteStore {
    /// How long a batch a mapping stream's worker hands over may wait to be written with
    /// others, unless the store is opened with another interval: its offsets are committed
    /// after, so at most this much more is read again after a crash.
    pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

    /// Opens (or creates) the store file at `path`, writing accepted batches at the latest
    /// [`DEFAULT_FLUSH_INTERVAL`](Self::DEFAULT_FLUSH_INTERVAL) after the first of them.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_flush_interval(path, Self::DEFAULT_FLUSH_INTERVAL)
    }

    /// Opens (or creates) the store file at `path`, writing accepted batches at the latest
    /// `flush_interval` after the first of them; zero writes each batch before the worker goes
    /// on (fewer messages read again after a crash, more CPU time per message).
    pub fn open_with_flush_interval(
        path: impl AsRef<Path>,
        flush_interval: Duration,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let connection = Connection::open(&path)
            .map_err(|e| unavailable(format!("cannot open {}: {e}", path.display())))?;
        connection
            .execute_batch(&format!(
                "PRAGMA page_size = {PAGE_SIZE}; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;"
            ))
            .map_err(classify)?;
        connection.execute_batch(SCHEMA).map_err(classify)?;
        // The first files declared `value ANY`, whose affinity turns 3.0 into 3 and "007" into 7:
        // what they would read back is not what was written.
        let value_type: String = connection
            .query_row(
                "SELECT type FROM pragma_table_info('features') WHERE name = 'value'",
                [],
                |row| row.get(0),
            )
            .map_err(classify)?;
        if !value_type.is_empty() {
            return Err(StoreError::Rejected(format!(
                "{}: its `value` column is declared `{value_type}`, which changes values as they \
                 are written; copy the features into a new store file",
                path.display()
            )));
        }
        let has_row_ids: bool = connection
            .query_row(
                "SELECT count(*) > 0 FROM pragma_table_info('features') WHERE name = 'id'",
                [],
                |row| row.get(0),
            )
            .map_err(classify)?;
        let row_ids = has_row_ids.then(RowIds::default);
        Ok(Self {
            path,
            connection: Arc::new(ConnectionThread::start(
                connection,
                row_ids,
                flush_interval,
            )?),
            writes_behind: !flush_interval.is_zero(),
        })
    }

    /// Whether the SQLite file at `path` holds a store's table (a `features` table with the
    /// store's columns), read without writing to it.
    pub(crate) fn is_a_store(path: &Path) -> Result<bool, StoreError> {
        let connection =
            Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| unavailable(format!("cannot open {}: {e}", path.display())))?;
        connection
            .execute_batch("PRAGMA busy_timeout = 5000;")
            .map_err(|e| in_file(path, classify(e)))?;
        connection
            .query_row(
                "SELECT count(*) = 6 FROM pragma_table_info('features') WHERE name IN \
                 ('namespace', 'entity_key', 'feature', 'value', 'value_type', 'feature_time')",
                [],
                |row| row.get(0),
            )
            .map_err(|e| in_file(path, classify(e)))
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait::async_trait]
impl FeatureStore for SqliteStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        let (_, result) = self.connection.write(rows.to_vec()).await;
        result.map_err(|e| in_file(&self.path, e))
    }

    /// Lends the rows to the connection's thread, which hands them back after the write,
    /// whatever its outcome: no copy, and `rows` are as they were.
    async fn write_taking(&self, rows: &mut [FeatureRow]) -> Result<(), StoreError> {
        let lent = rows.iter_mut().map(take_row).collect();
        let (returned, result) = self.connection.write(lent).await;
        for (slot, row) in rows.iter_mut().zip(returned) {
            *slot = row;
        }
        result.map_err(|e| in_file(&self.path, e))
    }

    /// Takes the rows' keys and values into the store's buffer (see [`SqliteStore`]); with a
    /// flush interval of zero, writes them as `write_taking` does.
    async fn write_behind(&self, rows: &mut [FeatureRow]) -> Result<WriteTicket, StoreError> {
        if !self.writes_behind {
            return self.write_taking(rows).await.map(|()| WriteTicket::DURABLE);
        }
        let accepted = self.connection.accept(rows).await;
        accepted.map_err(|e| in_file(&self.path, e))
    }

    fn durable_mark(&self) -> Option<DurableMark> {
        self.writes_behind.then(|| self.connection.durable_mark())
    }

    async fn flush(&self) -> Result<(), StoreError> {
        let flushed = self.connection.flush().await;
        flushed.map_err(|e| in_file(&self.path, e))
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        let filter = Some((namespace.to_owned(), key.to_owned()));
        let entities = self.connection.read(filter).await;
        Ok(entities.map_err(|e| in_file(&self.path, e))?.pop())
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        let entities = self.connection.read(None).await;
        entities.map_err(|e| in_file(&self.path, e))
    }
}

/// Moves a row out of its slot, leaving an empty row (no allocation) in its place.
fn take_row(slot: &mut FeatureRow) -> FeatureRow {
    let empty = FeatureRow {
        namespace: slot.namespace,
        primary_key: String::new(),
        values: Vec::new(),
        time: slot.time,
    };
    std::mem::replace(slot, empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_store_names_its_file() {
        let path = Path::new("/var/lib/app/features.sqlite");
        let locked = in_file(path, StoreError::Unavailable("database is locked".into()));
        assert_eq!(
            locked.to_string(),
            "feature store unavailable: /var/lib/app/features.sqlite: database is locked"
        );
        // A refused row is about the row, and goes into its dead letter as it is.
        let refused = in_file(path, StoreError::Rejected("string or blob too big".into()));
        assert_eq!(
            refused.to_string(),
            "feature store rejected the write: string or blob too big"
        );
    }
}
