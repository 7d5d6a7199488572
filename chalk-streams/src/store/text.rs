//! Feature values as text, for stores that keep text (Redis) or text columns (SQLite).

use crate::features::FeatureValue;
use crate::message::Timestamp;

/// The value as a store keeps it in text: strings as they are, numbers and booleans in decimal,
/// timestamps in RFC 3339, lists and JSON as JSON.
pub(crate) fn to_text(value: &FeatureValue) -> String {
    match value {
        FeatureValue::Bool(v) => v.to_string(),
        FeatureValue::Int(v) => v.to_string(),
        FeatureValue::Float(v) => v.to_string(),
        FeatureValue::String(v) => v.clone(),
        FeatureValue::Timestamp(v) => v.to_string(),
        FeatureValue::List(_) | FeatureValue::Json(_) => value.to_json().to_string(),
    }
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
