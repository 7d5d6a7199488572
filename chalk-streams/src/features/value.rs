//! Feature values: the types a store keeps, their text and JSON forms.

use std::fmt;

use crate::message::Timestamp;

/// A feature's value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FeatureValue {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    String(String),
    /// A point in time.
    Timestamp(Timestamp),
    /// A list of values.
    List(Vec<FeatureValue>),
    /// Any other JSON value (objects, nested data, numbers beyond `i64`).
    Json(serde_json::Value),
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.as_millis())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i64::deserialize(deserializer).map(Timestamp::from_millis)
    }
}

impl fmt::Display for FeatureValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureValue::Bool(v) => write!(f, "{v}"),
            FeatureValue::Int(v) => write!(f, "{v}"),
            FeatureValue::Float(v) => write!(f, "{v}"),
            FeatureValue::String(v) => f.write_str(v),
            FeatureValue::Timestamp(v) => write!(f, "{v}"),
            FeatureValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            FeatureValue::Json(v) => write!(f, "{v}"),
        }
    }
}

impl FeatureValue {
    /// The type's name: `bool`, `int`, `float`, `string`, `timestamp`, `list` or `json`.
    pub const fn type_name(&self) -> &'static str {
        match self {
            FeatureValue::Bool(_) => "bool",
            FeatureValue::Int(_) => "int",
            FeatureValue::Float(_) => "float",
            FeatureValue::String(_) => "string",
            FeatureValue::Timestamp(_) => "timestamp",
            FeatureValue::List(_) => "list",
            FeatureValue::Json(_) => "json",
        }
    }

    /// The value as plain JSON: timestamps become RFC 3339 strings, and floats JSON has no
    /// number for become the strings `"NaN"`, `"inf"` and `"-inf"` (which `f64` reads back).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            FeatureValue::Bool(v) => Value::Bool(*v),
            FeatureValue::Int(v) => Value::from(*v),
            FeatureValue::Float(v) if !v.is_finite() => Value::String(v.to_string()),
            FeatureValue::Float(v) => Value::from(*v),
            FeatureValue::String(v) => Value::String(v.clone()),
            FeatureValue::Timestamp(v) => Value::String(v.to_string()),
            FeatureValue::List(items) => Value::Array(items.iter().map(Self::to_json).collect()),
            FeatureValue::Json(v) => v.clone(),
        }
    }

    /// The value of plain JSON: numbers become `Int` when they fit, else `Float`; arrays become
    /// lists; objects and `null` stay JSON.
    pub fn from_json(json: serde_json::Value) -> Self {
        use serde_json::Value;
        match json {
            Value::Bool(v) => FeatureValue::Bool(v),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => FeatureValue::Int(i),
                (None, Some(f)) if !n.is_u64() => FeatureValue::Float(f),
                _ => FeatureValue::Json(Value::Number(n)),
            },
            Value::String(v) => FeatureValue::String(v),
            Value::Array(items) => {
                FeatureValue::List(items.into_iter().map(Self::from_json).collect())
            }
            other => FeatureValue::Json(other),
        }
    }
}
