//! What SQLite would refuse to write, found before a batch is accepted: a batch accepted for a
//! later transaction can no longer be refused message by message.

use crate::features::{FeatureRow, FeatureValue};
use crate::store::{text, StoreError};

/// Room a row takes besides the texts counted: the record header, the integers, the type name,
/// and a timestamp's text (RFC 3339, at most 35 bytes), with room to spare.
const ROW_OVERHEAD: usize = 128;

/// Refuses `row` if SQLite would: a list or JSON value nested too deep to read back, or a row
/// larger than `max_length`, the connection's limit on a string, a blob and a row.
pub(super) fn check_row(row: &FeatureRow, max_length: usize) -> Result<(), StoreError> {
    for (feature, value) in &row.values {
        let value_length = match value {
            FeatureValue::String(text) => text.len(),
            FeatureValue::List(_) | FeatureValue::Json(_) => text::to_text(value)?.len(),
            _ => 0,
        };
        let length = row.namespace.len()
            + row.primary_key.len()
            + feature.len()
            + value_length
            + ROW_OVERHEAD;
        if length > max_length {
            return Err(StoreError::Rejected(format!(
                "string or blob too big: feature `{feature}` of {}/{} takes {length} bytes, \
                 SQLite holds at most {max_length}",
                row.namespace, row.primary_key
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Timestamp;

    fn row(value: FeatureValue) -> FeatureRow {
        FeatureRow {
            namespace: "user",
            primary_key: "u1".to_owned(),
            values: vec![("bio", value)],
            time: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn refuses_what_sqlite_would_and_nothing_else() {
        let fits = row(FeatureValue::String("x".repeat(100)));
        assert!(check_row(&fits, 1_000).is_ok());
        let too_long = row(FeatureValue::String("x".repeat(1_000)));
        let error = check_row(&too_long, 1_000).expect_err("too long");
        assert!(
            error.to_string().contains("feature `bio` of user/u1"),
            "{error}"
        );
        let mut too_deep = serde_json::Value::Null;
        for _ in 0..=text::MAX_NESTING {
            too_deep = serde_json::Value::Array(vec![too_deep]);
        }
        let error = check_row(&row(FeatureValue::Json(too_deep)), 1_000_000).expect_err("deep");
        assert!(error.to_string().contains("levels deep"), "{error}");
    }
}
