//! The embedded durable store: one SQLite file, readable with the `sqlite3` tool.
//!
//! One row per entity, key and feature:
//!
//! ```sql
//! SELECT namespace, entity_key, feature, value, value_type,
//!        strftime('%Y-%m-%dT%H:%M:%fZ', feature_time / 1000.0, 'unixepoch') AS feature_time
//! FROM features;
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection};

use super::{Entity, FeatureStore, StoreError, StoredFeature};
use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS features (
    namespace    TEXT    NOT NULL,
    entity_key   TEXT    NOT NULL,
    feature      TEXT    NOT NULL,
    value,                         -- no declared type: stored exactly as written
    value_type   TEXT    NOT NULL,
    feature_time INTEGER NOT NULL, -- milliseconds since the Unix epoch
    PRIMARY KEY (namespace, entity_key, feature)
) WITHOUT ROWID;
";

/// Writes a feature unless the stored one has a newer feature time: check and write are one
/// statement, inside the batch's transaction.
const UPSERT: &str = "
INSERT INTO features (namespace, entity_key, feature, value, value_type, feature_time)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (namespace, entity_key, feature) DO UPDATE SET
    value = excluded.value,
    value_type = excluded.value_type,
    feature_time = excluded.feature_time
WHERE excluded.feature_time >= features.feature_time;
";

/// A feature store in one SQLite file. Each batch is one transaction, durable (`synchronous =
/// FULL`, write-ahead log) before `write` returns.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    path: PathBuf,
    connection: Arc<Mutex<Connection>>,
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

impl SqliteStore {
    /// Opens (or creates) the store file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let connection = Connection::open(&path)
            .map_err(|e| unavailable(format!("cannot open {}: {e}", path.display())))?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(classify)?;
        connection.execute_batch(SCHEMA).map_err(classify)?;
        Ok(Self {
            path,
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` with the connection on a blocking thread.
    async fn with_connection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut connection = connection
                .lock()
                .map_err(|_| unavailable("SQLite connection lock poisoned"))?;
            work(&mut connection)
        })
        .await
        .map_err(unavailable)?
    }
}

/// A value as SQLite holds it, and its type's name.
fn to_sql(value: &FeatureValue) -> (rusqlite::types::Value, &'static str) {
    use rusqlite::types::Value;
    let sql = match value {
        FeatureValue::Bool(b) => Value::Integer(i64::from(*b)),
        FeatureValue::Int(i) => Value::Integer(*i),
        FeatureValue::Float(f) => Value::Real(*f),
        FeatureValue::String(_)
        | FeatureValue::Timestamp(_)
        | FeatureValue::List(_)
        | FeatureValue::Json(_) => Value::Text(super::text::to_text(value)),
    };
    (sql, value.type_name())
}

fn from_sql(value: rusqlite::types::Value, kind: &str) -> Result<FeatureValue, String> {
    use rusqlite::types::Value;
    match (kind, value) {
        ("bool", Value::Integer(i)) => Ok(FeatureValue::Bool(i != 0)),
        ("int", Value::Integer(i)) => Ok(FeatureValue::Int(i)),
        ("float", Value::Real(f)) => Ok(FeatureValue::Float(f)),
        (_, Value::Text(text)) => super::text::from_text(kind, &text),
        (kind, value) => Err(format!("a {kind} feature holds {value:?}")),
    }
}

fn read_entities(
    connection: &Connection,
    filter: Option<(&str, &str)>,
) -> Result<Vec<Entity>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT namespace, entity_key, feature, value, value_type, feature_time FROM features
             WHERE (?1 IS NULL OR namespace = ?1) AND (?2 IS NULL OR entity_key = ?2)
             ORDER BY namespace, entity_key, feature",
        )
        .map_err(classify)?;
    let (namespace, key) = filter.unzip();
    let rows = statement
        .query_map(params![namespace, key], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, rusqlite::types::Value>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .map_err(classify)?;
    let mut entities: Vec<Entity> = Vec::new();
    for row in rows {
        let (namespace, key, feature, value, kind, time) = row.map_err(classify)?;
        let value = from_sql(value, &kind).map_err(|e| {
            unavailable(format!(
                "unreadable feature {namespace}/{key}/{feature}: {e}"
            ))
        })?;
        let stored = StoredFeature {
            value,
            time: Timestamp::from_millis(time),
        };
        match entities.last_mut() {
            Some(e) if e.namespace == namespace && e.key == key => {
                e.features.insert(feature, stored);
            }
            _ => entities.push(Entity {
                namespace,
                key,
                features: [(feature, stored)].into_iter().collect(),
            }),
        }
    }
    Ok(entities)
}

#[async_trait::async_trait]
impl FeatureStore for SqliteStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        let rows = rows.to_vec();
        self.with_connection(move |connection| {
            let transaction = connection.transaction().map_err(classify)?;
            {
                let mut upsert = transaction.prepare_cached(UPSERT).map_err(classify)?;
                for row in &rows {
                    for (feature, value) in &row.values {
                        let (value, kind) = to_sql(value);
                        upsert
                            .execute(params![
                                row.namespace,
                                row.primary_key,
                                feature,
                                value,
                                kind,
                                row.time.as_millis()
                            ])
                            .map_err(classify)?;
                    }
                }
            }
            transaction.commit().map_err(classify)
        })
        .await
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        let (namespace, key) = (namespace.to_owned(), key.to_owned());
        self.with_connection(move |connection| {
            Ok(read_entities(connection, Some((&namespace, &key)))?.pop())
        })
        .await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        self.with_connection(|connection| read_entities(connection, None))
            .await
    }
}
