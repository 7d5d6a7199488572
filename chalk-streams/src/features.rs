//! Features: typed values about an entity, keyed by its primary key.
//!
//! `#[derive(Features)]` implements [`Features`] for a struct with one `#[primary]` field. Every
//! other field is a feature; an `Option` field is a feature the resolver may leave unset.

use std::fmt;
use std::time::SystemTime;

use crate::message::Timestamp;

/// An entity type whose values a stream resolver computes. Derive it: `#[derive(Features)]`.
pub trait Features: Sized + Send + 'static {
    /// The entity's namespace in the store: the struct's name in snake case (`User` → `user`).
    const NAMESPACE: &'static str;
    /// The name of the `#[primary]` field.
    const PRIMARY_KEY: &'static str;
    /// The names of the feature fields, in declaration order.
    const FEATURES: &'static [&'static str];

    /// Splits `self` into its primary key and the features it sets, stamped with `time`.
    fn into_row(self, time: Timestamp) -> FeatureRow;
}

/// One resolver output: the features set for one entity at one feature time.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    /// The entity's namespace (see [`Features::NAMESPACE`]).
    pub namespace: &'static str,
    /// The entity's primary key, as text.
    pub primary_key: String,
    /// The features set, by name. Unset `Option` features are absent.
    pub values: Vec<(&'static str, FeatureValue)>,
    /// When the values were observed: the message timestamp for mapping streams.
    pub time: Timestamp,
}

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

    /// The value as plain JSON: timestamps become RFC 3339 strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            FeatureValue::Bool(v) => Value::Bool(*v),
            FeatureValue::Int(v) => Value::from(*v),
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

/// Types a feature field can have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a feature value",
    label = "unsupported feature type",
    note = "features are bool, integers, floats, String, Timestamp, SystemTime, Vec of those, or serde_json::Value for nested data"
)]
pub trait IntoFeatureValue {
    /// Converts the value.
    fn into_feature_value(self) -> FeatureValue;
}

macro_rules! int_features {
    ($($t:ty),*) => {$(
        impl IntoFeatureValue for $t {
            fn into_feature_value(self) -> FeatureValue {
                FeatureValue::Int(i64::from(self))
            }
        }
    )*};
}
int_features!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! wide_int_features {
    ($($t:ty),*) => {$(
        impl IntoFeatureValue for $t {
            /// Values beyond `i64` are kept exactly, as a JSON number.
            fn into_feature_value(self) -> FeatureValue {
                match i64::try_from(self) {
                    Ok(v) => FeatureValue::Int(v),
                    Err(_) => FeatureValue::Json(serde_json::Value::from(self)),
                }
            }
        }
    )*};
}
wide_int_features!(u64, usize, isize);

impl IntoFeatureValue for bool {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::Bool(self)
    }
}

impl IntoFeatureValue for f64 {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::Float(self)
    }
}

impl IntoFeatureValue for f32 {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::Float(f64::from(self))
    }
}

impl IntoFeatureValue for String {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::String(self)
    }
}

impl IntoFeatureValue for &str {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::String(self.to_owned())
    }
}

impl IntoFeatureValue for Timestamp {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::Timestamp(self)
    }
}

impl IntoFeatureValue for SystemTime {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::Timestamp(Timestamp::from_system_time(self))
    }
}

impl IntoFeatureValue for serde_json::Value {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::Json(self)
    }
}

impl<T: IntoFeatureValue> IntoFeatureValue for Vec<T> {
    fn into_feature_value(self) -> FeatureValue {
        FeatureValue::List(
            self.into_iter()
                .map(IntoFeatureValue::into_feature_value)
                .collect(),
        )
    }
}

/// Types a `#[primary]` field can have: text and integers, stored as text.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a primary key",
    label = "unsupported primary key type",
    note = "a #[primary] field is a String or an integer"
)]
pub trait PrimaryKey {
    /// The key as the store keeps it.
    fn to_key(&self) -> String;
}

macro_rules! display_keys {
    ($($t:ty),*) => {$(
        impl PrimaryKey for $t {
            fn to_key(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
display_keys!(String, &str, i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, usize, isize);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_convert_and_display() {
        assert_eq!(3_u8.into_feature_value(), FeatureValue::Int(3));
        assert_eq!(
            u64::MAX.into_feature_value(),
            FeatureValue::Json(serde_json::json!(u64::MAX))
        );
        let list = vec!["a", "b"].into_feature_value();
        assert_eq!(list.to_string(), "[a, b]");
        assert_eq!(
            Timestamp::from_millis(0).into_feature_value().to_string(),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
