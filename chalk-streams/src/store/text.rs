//! Feature values as text, for stores that keep text (Redis) or text columns (SQLite).

use super::StoreError;
use crate::features::{FeatureRow, FeatureValue};
use crate::message::Timestamp;

/// The deepest nesting of a list or JSON value that can be read back: serde_json refuses to
/// parse deeper (its recursion limit), so a deeper value would be written, then make its
/// entity unreadable.
pub(crate) const MAX_NESTING: usize = 127;

/// The value as a store keeps it in text: strings as they are, numbers and booleans in decimal,
/// timestamps in RFC 3339, lists and JSON as JSON. A list or JSON value nested deeper than
/// [`MAX_NESTING`] is refused.
pub(crate) fn to_text(value: &FeatureValue) -> Result<String, StoreError> {
    Ok(match value {
        FeatureValue::Bool(v) => v.to_string(),
        FeatureValue::Int(v) => v.to_string(),
        FeatureValue::Float(v) => v.to_string(),
        FeatureValue::String(v) => v.clone(),
        FeatureValue::Timestamp(v) => v.to_string(),
        FeatureValue::List(_) | FeatureValue::Json(_) => {
            let json = value.to_json();
            refuse_too_deep(value, &json)?;
            json.to_string()
        }
    })
}

/// Refuses the batch, before writing any of it, if a value could not be read back from every
/// store (see [`check_nesting`]): what the in-memory store and the stream tester check too.
pub(crate) fn check_rows(rows: &[FeatureRow]) -> Result<(), StoreError> {
    rows.iter()
        .flat_map(|row| &row.values)
        .try_for_each(|(_, value)| check_nesting(value))
}

/// Refuses a list or JSON value nested deeper than [`MAX_NESTING`], as every store does, so
/// that a program tested on one store behaves the same on another.
pub(crate) fn check_nesting(value: &FeatureValue) -> Result<(), StoreError> {
    match value {
        FeatureValue::List(_) | FeatureValue::Json(_) => refuse_too_deep(value, &value.to_json()),
        _ => Ok(()),
    }
}

fn refuse_too_deep(value: &FeatureValue, json: &serde_json::Value) -> Result<(), StoreError> {
    let depth = nesting(json);
    if depth > MAX_NESTING {
        return Err(StoreError::Rejected(format!(
            "a {} value nested {depth} levels deep could not be read back (at most \
             {MAX_NESTING})",
            value.type_name()
        )));
    }
    Ok(())
}

/// How many arrays and objects deep `json` goes (without recursing, whatever the depth).
fn nesting(json: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(json, 0)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
            serde_json::Value::Array(items) => Box::new(items.iter()),
            serde_json::Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

/// The value of `text`, stored with type name `kind` (see [`FeatureValue::type_name`]).
pub(crate) fn from_text(kind: &str, text: &str) -> Result<FeatureValue, String> {
    let bad = |e: &dyn std::fmt::Display| format!("bad {kind} {text:?}: {e}");
    Ok(match kind {
        "bool" => FeatureValue::Bool(text.parse().map_err(|e| bad(&e))?),
        "int" => FeatureValue::Int(text.parse().map_err(|e| bad(&e))?),
        "float" => FeatureValue::Float(text.parse().map_err(|e| bad(&e))?),
        "string" => FeatureValue::String(text.to_owned()),
        "timestamp" => {
            FeatureValue::Timestamp(Timestamp::parse_rfc3339(text).map_err(|e| bad(&e))?)
        }
        "list" | "json" => {
            let json: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(&e))?;
            if kind == "list" {
                FeatureValue::from_json(json)
            } else {
                FeatureValue::Json(json)
            }
        }
        other => return Err(format!("unknown feature type {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> FeatureValue {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        FeatureValue::Json(serde_json::from_str(&text).expect("within serde_json's limit"))
    }

    #[test]
    fn a_value_is_written_only_if_it_can_be_read_back() {
        let deepest = nested(MAX_NESTING);
        let text = to_text(&deepest).expect("as deep as can be read");
        assert_eq!(from_text("json", &text), Ok(deepest));
        let FeatureValue::Json(inner) = nested(MAX_NESTING) else {
            unreachable!()
        };
        let deeper = FeatureValue::Json(serde_json::Value::Array(vec![inner]));
        assert!(matches!(
            to_text(&deeper),
            Err(StoreError::Rejected(why)) if why.contains("nested 128 levels deep")
        ));
    }
}
