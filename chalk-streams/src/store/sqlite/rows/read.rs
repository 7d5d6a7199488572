//! Rows read out of the `features` table.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use super::super::classify;
use crate::features::FeatureValue;
use crate::message::Timestamp;
use crate::store::{text, Entity, StoreError, StoredFeature};

/// A row's columns that do not convert (a time written as a real number, a type as bytes, by
/// another program) are the data's fault: reading again gives the same answer.
fn unreadable_row(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::Utf8Error(..) => {
            StoreError::Unreadable(format!("a stored feature's row: {error}"))
        }
        other => classify(other),
    }
}

fn from_sql(value: Value, kind: &str) -> Result<FeatureValue, String> {
    match (kind, value) {
        ("bool", Value::Integer(i)) => Ok(FeatureValue::Bool(i != 0)),
        ("int", Value::Integer(i)) => Ok(FeatureValue::Int(i)),
        ("float", Value::Real(f)) => Ok(FeatureValue::Float(f)),
        // How files written before NaN was stored as text hold it: SQLite made it NULL.
        ("float", Value::Null) => Ok(FeatureValue::Float(f64::NAN)),
        (_, Value::Text(text)) => text::from_text(kind, &text),
        (kind, value) => Err(format!("a {kind} feature holds {value:?}")),
    }
}

/// One entity (`filter` = namespace and key) or every entity, ordered by namespace and key.
pub(in crate::store::sqlite) fn read_entities(
    connection: &Connection,
    filter: Option<(&str, &str)>,
) -> Result<Vec<Entity>, StoreError> {
    // Two statements rather than one with `?1 IS NULL OR ...`, which SQLite cannot answer from
    // the primary key: a read of one entity would scan the whole table.
    let mut statement = connection
        .prepare_cached(if filter.is_some() {
            "SELECT namespace, entity_key, feature, value, value_type, feature_time FROM features
             WHERE namespace = ?1 AND entity_key = ?2 ORDER BY feature"
        } else {
            "SELECT namespace, entity_key, feature, value, value_type, feature_time FROM features
             ORDER BY namespace, entity_key, feature"
        })
        .map_err(classify)?;
    let parameters = match filter {
        Some((namespace, key)) => vec![namespace, key],
        None => Vec::new(),
    };
    let rows = statement
        .query_map(params_from_iter(parameters), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Value>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .map_err(classify)?;
    let mut entities: Vec<Entity> = Vec::new();
    for row in rows {
        let (namespace, key, feature, value, kind, time) = row.map_err(unreadable_row)?;
        let value = from_sql(value, &kind)
            .map_err(|e| StoreError::Unreadable(format!("{namespace}/{key}/{feature}: {e}")))?;
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
