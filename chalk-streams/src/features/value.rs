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
    /// A floating-point number. Serialized as a number, or, where JSON has none (NaN and the
    /// infinities), as the strings `"NaN"`, `"inf"` and `"-inf"`, as [`to_json`](Self::to_json)
    /// writes them, and read back from either.
    Float(#[serde(with = "float_text")] f64),
    /// Text.
    String(String),
    /// A point in time.
    Timestamp(Timestamp),
    /// A list of values.
    List(Vec<FeatureValue>),
    /// Any other JSON value (objects, nested data, numbers beyond `i64`).
    Json(serde_json::Value),
}

/// A float as JSON can hold it: a number, or for NaN and the infinities the text `f64` reads
/// back (serde_json would write `null`, which reads back as nothing).
mod float_text {
    use serde::Deserialize as _;

    pub(super) fn serialize<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_str(&v.to_string())
        }
    }

    /// Read through `serde_json::Value`, which also reads numbers that serde_json's
    /// `arbitrary_precision` feature (switched on by any crate of the build) hands over as maps.
    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        use serde::de::Error as _;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(number) => number
                .as_f64()
                .ok_or_else(|| D::Error::custom(format!("`{number}` is not a float"))),
            serde_json::Value::String(text) => text
                .parse()
                .map_err(|_| D::Error::custom(format!("`{text}` is not a float"))),
            other => Err(D::Error::custom(format!("`{other}` is not a float"))),
        }
    }
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

    /// The value of plain JSON: numbers become `Int` when they fit, else `Float`, except
    /// integers beyond `i64`, which stay JSON (exact, as a `u64` reads back); arrays become
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

#[cfg(test)]
mod tests {
    use super::FeatureValue;

    #[test]
    fn floats_json_has_no_number_for_serialize_as_text_and_read_back() {
        for (value, json) in [
            (f64::NAN, r#"{"type":"float","value":"NaN"}"#),
            (f64::INFINITY, r#"{"type":"float","value":"inf"}"#),
            (f64::NEG_INFINITY, r#"{"type":"float","value":"-inf"}"#),
            (1.5, r#"{"type":"float","value":1.5}"#),
        ] {
            let written = serde_json::to_string(&FeatureValue::Float(value)).expect("serializes");
            assert_eq!(written, json);
            let read: FeatureValue = serde_json::from_str(&written).expect("reads back");
            let FeatureValue::Float(read) = read else {
                panic!("{read:?}")
            };
            assert!(read == value || (read.is_nan() && value.is_nan()), "{read}");
        }
        let refused = serde_json::from_str::<FeatureValue>(r#"{"type":"float","value":"x"}"#);
        assert!(refused.is_err());
        for (json, expected) in [
            (r#"{"value":"inf","type":"float"}"#, f64::INFINITY),
            (r#"{"value":3,"type":"float"}"#, 3.0),
            (r#"{"type":"float","value":-3}"#, -3.0),
        ] {
            let read: FeatureValue = serde_json::from_str(json).expect(json);
            assert_eq!(read, FeatureValue::Float(expected), "{json}");
        }
    }
}
