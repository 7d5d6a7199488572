//! Rows in and out of the `features` table: written here, read in [`read`].

mod read;

pub(super) use read::read_entities;

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{CachedStatement, Connection};

use super::classify;
use super::pending::PendingFeatures;
use super::row_ids::{FeatureKey, RowIds};
use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;
use crate::store::{text, StoreError};

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

/// The same write as the upsert's, to a row known by id: one seek by integer rather than a
/// search of the key index, and the row is rewritten in place. It changes nothing unless the
/// row still holds this feature and is not newer, and the upsert then decides.
const UPDATE_BY_ID: &str = "
UPDATE features SET value = ?4, value_type = ?5, feature_time = ?6
WHERE id = ?7 AND entity_key = ?2 AND namespace = ?1 AND feature = ?3 AND feature_time <= ?6
";

/// The id of a feature's row. (`RETURNING id` on the upsert would answer it too, but costs
/// SQLite a temporary table and a statement journal on every execution.)
const SELECT_ID: &str = "
SELECT id FROM features WHERE entity_key = ?2 AND namespace = ?1 AND feature = ?3
";

/// Writes the rows of `batches` in one transaction, durable when this returns `Ok`. With
/// `row_ids` (the table has row ids), features written before are updated by id, and the ids
/// of the others are kept for next time.
pub(super) fn upsert(
    connection: &mut Connection,
    batches: &[&[FeatureRow]],
    row_ids: Option<&mut RowIds>,
) -> Result<(), StoreError> {
    let features = batches.iter().copied().flatten().flat_map(|row| {
        row.values.iter().map(move |(feature, value)| FeatureWrite {
            namespace: row.namespace,
            entity: &row.primary_key,
            feature,
            value,
            time: row.time,
        })
    });
    write_features(connection, features, row_ids)
}

/// Writes the features accepted and not yet written, one each, in one transaction, durable
/// when this returns `Ok`.
pub(super) fn upsert_pending(
    connection: &mut Connection,
    pending: &PendingFeatures,
    row_ids: Option<&mut RowIds>,
) -> Result<(), StoreError> {
    write_features(connection, pending.writes(), row_ids)
}

/// Writes the features accepted and not yet written in one transaction, each under a
/// savepoint of its own, for when writing them together was refused: a feature SQLite refuses
/// is left out, and returned with why; the others are written.
pub(super) fn upsert_pending_each(
    connection: &mut Connection,
    pending: &PendingFeatures,
    mut row_ids: Option<&mut RowIds>,
) -> Result<Vec<(String, StoreError)>, StoreError> {
    let mut transaction = connection.transaction().map_err(classify)?;
    let mut refused = Vec::new();
    for feature in pending.writes() {
        let savepoint = transaction.savepoint().map_err(classify)?;
        let written = FeatureWriter::new(&savepoint, row_ids.as_deref_mut())
            .and_then(|mut writer| writer.write(&feature, None));
        match written {
            Ok(()) => savepoint.commit().map_err(classify)?,
            Err(StoreError::Unavailable(why)) => return Err(StoreError::Unavailable(why)),
            // Dropping the savepoint rolls the feature back.
            Err(error) => refused.push((
                format!(
                    "{}/{}/{}",
                    feature.namespace, feature.entity, feature.feature
                ),
                error,
            )),
        }
    }
    transaction.commit().map_err(classify)?;
    Ok(refused)
}

fn write_features<'a>(
    connection: &mut Connection,
    features: impl Iterator<Item = FeatureWrite<'a>>,
    row_ids: Option<&mut RowIds>,
) -> Result<(), StoreError> {
    let transaction = connection.transaction().map_err(classify)?;
    {
        let mut writer = FeatureWriter::new(&transaction, row_ids)?;
        let mut writes: Vec<Write<'_>> = features
            .map(|feature| Write {
                id: writer.known_id(feature.key()),
                feature,
            })
            .collect();
        // Each page is then visited once per transaction rather than read again for every
        // write that lands on it: updates by id in id order (the table's), then the others in
        // key order (the key index's). The sort is stable, and the writes of one feature are
        // next to each other, in the order they came.
        writes.sort_by(|a, b| match (a.id, b.id) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.key().cmp(&b.key()),
        });
        let mut writes = writes.into_iter().peekable();
        while let Some(mut write) = writes.next() {
            // Of several writes of one feature in a transaction, only one would be left by
            // running them all: the newest by feature time, the later of equals. Running only
            // that one saves a statement per repeat for a key written often (hot entities).
            // A value passed over is still checked as a written one would be, so that
            // whether a message is refused does not depend on what shares its transaction.
            while let Some(next) = writes.next_if(|next| next.key() == write.key()) {
                let passed_over = if next.feature.time >= write.feature.time {
                    std::mem::replace(&mut write, next)
                } else {
                    next
                };
                text::check_nesting(passed_over.feature.value)?;
            }
            writer.write(&write.feature, write.id)?;
        }
    }
    transaction.commit().map_err(classify)
}

/// One feature's value to write, with its feature time.
pub(super) struct FeatureWrite<'a> {
    pub(super) namespace: &'static str,
    pub(super) entity: &'a str,
    pub(super) feature: &'static str,
    pub(super) value: &'a FeatureValue,
    pub(super) time: Timestamp,
}

impl<'a> FeatureWrite<'a> {
    fn key(&self) -> FeatureKey<'a> {
        FeatureKey {
            namespace: self.namespace,
            entity: self.entity,
            feature: self.feature,
        }
    }
}

/// One feature to write, with the row id it was last written to, if known.
struct Write<'a> {
    id: Option<i64>,
    feature: FeatureWrite<'a>,
}

impl Write<'_> {
    /// The feature's key, in the key index's order.
    fn key(&self) -> (&str, &'static str, &'static str) {
        (
            self.feature.entity,
            self.feature.namespace,
            self.feature.feature,
        )
    }
}

/// Writes features one by one inside a transaction: by row id when the id is known, by key
/// otherwise.
struct FeatureWriter<'conn, 'ids> {
    connection: &'conn Connection,
    by_key: Parameters<'conn>,
    /// The update by id and the ids known, if the table has row ids.
    by_id: Option<(Parameters<'conn>, &'ids mut RowIds)>,
}

impl<'conn, 'ids> FeatureWriter<'conn, 'ids> {
    fn new(
        connection: &'conn Connection,
        row_ids: Option<&'ids mut RowIds>,
    ) -> Result<Self, StoreError> {
        let by_id = match row_ids {
            Some(ids) => Some((
                Parameters::new(connection.prepare_cached(UPDATE_BY_ID).map_err(classify)?),
                ids,
            )),
            None => None,
        };
        Ok(Self {
            connection,
            by_key: Parameters::new(connection.prepare_cached(UPSERT).map_err(classify)?),
            by_id,
        })
    }

    /// The row id the feature `key` was last written to, if the table has ids and it is known.
    fn known_id(&self, key: FeatureKey<'_>) -> Option<i64> {
        let (_, ids) = self.by_id.as_ref()?;
        ids.get(key)
    }

    /// Writes `write`: by `id` if given (which may be stale), by key otherwise.
    fn write(&mut self, write: &FeatureWrite<'_>, id: Option<i64>) -> Result<(), StoreError> {
        let key = write.key();
        if let Some((update, _)) = &mut self.by_id {
            if let Some(id) = id {
                update.bind(write)?;
                update
                    .statement
                    .raw_bind_parameter(7, id)
                    .map_err(classify)?;
                if update.statement.raw_execute().map_err(classify)? == 1 {
                    return Ok(());
                }
            }
        }
        self.by_key.bind(write)?;
        let inserted_before = self.connection.last_insert_rowid();
        let written = self.by_key.statement.raw_execute().map_err(classify)?;
        let Some((_, ids)) = &mut self.by_id else {
            return Ok(());
        };
        // An insert sets the connection's last row id, an update does not.
        let inserted = self.connection.last_insert_rowid();
        if inserted != inserted_before {
            ids.insert(key, inserted);
        } else if written == 1 {
            let id = self
                .connection
                .prepare_cached(SELECT_ID)
                .and_then(|mut select| {
                    select.query_row((write.namespace, write.entity, write.feature), |id| {
                        id.get(0)
                    })
                })
                .map_err(classify)?;
            ids.insert(key, id);
        }
        Ok(())
    }
}

/// A statement whose parameters 1 to 6 are a feature's, as in [`UPSERT`] and [`UPDATE_BY_ID`].
/// SQLite keeps a statement's parameters from one execution to the next, so the namespace,
/// feature name and type, mostly the same from row to row, are bound only when they change.
struct Parameters<'conn> {
    statement: CachedStatement<'conn>,
    namespace: Option<&'static str>,
    feature: Option<&'static str>,
    kind: Option<&'static str>,
}

impl<'conn> Parameters<'conn> {
    fn new(statement: CachedStatement<'conn>) -> Self {
        Self {
            statement,
            namespace: None,
            feature: None,
            kind: None,
        }
    }

    fn bind(&mut self, write: &FeatureWrite<'_>) -> Result<(), StoreError> {
        let statement = &mut self.statement;
        if self.namespace != Some(write.namespace) {
            statement
                .raw_bind_parameter(1, write.namespace)
                .map_err(classify)?;
            self.namespace = Some(write.namespace);
        }
        statement
            .raw_bind_parameter(2, write.entity)
            .map_err(classify)?;
        if self.feature != Some(write.feature) {
            statement
                .raw_bind_parameter(3, write.feature)
                .map_err(classify)?;
            self.feature = Some(write.feature);
        }
        statement
            .raw_bind_parameter(4, to_sql(write.value)?)
            .map_err(classify)?;
        let kind = write.value.type_name();
        if self.kind != Some(kind) {
            statement.raw_bind_parameter(5, kind).map_err(classify)?;
            self.kind = Some(kind);
        }
        statement
            .raw_bind_parameter(6, write.time.as_millis())
            .map_err(classify)
    }
}

/// A value as SQLite holds it; strings are bound where they are, not copied first.
fn to_sql(value: &FeatureValue) -> Result<ToSqlOutput<'_>, StoreError> {
    Ok(match value {
        FeatureValue::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
        FeatureValue::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
        // SQLite stores a NaN real as NULL; as text it reads back as NaN.
        FeatureValue::Float(f) if f.is_nan() => ToSqlOutput::Owned(Value::Text(f.to_string())),
        FeatureValue::Float(f) => ToSqlOutput::Owned(Value::Real(*f)),
        FeatureValue::String(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        FeatureValue::Timestamp(_) | FeatureValue::List(_) | FeatureValue::Json(_) => {
            ToSqlOutput::Owned(Value::Text(text::to_text(value)?))
        }
    })
}

#[cfg(test)]
mod tests;
