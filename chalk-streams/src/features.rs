//! Features: typed values about an entity, keyed by its primary key.
//!
//! `#[derive(Features)]` implements [`Features`] for a struct with one `#[primary]` field. Every
//! other field is a feature; an `Option` field is a feature the resolver may leave unset.
//!
//! Writing goes through [`IntoFeatureValue`] and [`PrimaryKey`]; reading an entity back as its
//! type goes through [`FromFeatureValue`] and [`FromPrimaryKey`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use crate::message::Timestamp;
use crate::store::StoredFeature;

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

    /// Rebuilds the entity `key` from its stored `features` (feature name → stored feature).
    ///
    /// The primary key field is parsed from `key` ([`FromPrimaryKey`]) and each feature field
    /// from the stored value of the same name ([`FromFeatureValue`]). An `Option` field whose
    /// feature is absent is `None`; stored features that are not fields are ignored.
    ///
    /// # Errors
    ///
    /// A message naming the feature (or the key) and the entity, e.g. ``feature `age` of user
    /// `u1` is not stored``, when a non-`Option` feature is absent, a stored value does not
    /// convert to its field's type, or `key` does not parse as the primary key's type.
    fn from_features(key: &str, features: &BTreeMap<String, StoredFeature>)
        -> Result<Self, String>;
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

/// Types a feature field can be read back as: the inverse of [`IntoFeatureValue`].
///
/// Each type reads what its `IntoFeatureValue` writes. Beyond that: integers are range-checked
/// (so a value written as `i64` reads as `u8` when it fits); floats also read integers;
/// `Timestamp` and `SystemTime` also read RFC 3339 strings (a list of timestamps comes back
/// from stores that keep lists as JSON as a list of strings); `serde_json::Value` reads any
/// value, as [`FeatureValue::to_json`] renders it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read back as a feature value",
    label = "unsupported feature type",
    note = "features are read back as bool, integers, floats, String, Timestamp, SystemTime, Vec of those, or serde_json::Value for nested data"
)]
pub trait FromFeatureValue: Sized {
    /// Converts a stored value.
    ///
    /// # Errors
    ///
    /// What was expected and what was found, e.g. `expected int, found string`, or why the
    /// value does not fit, e.g. `int 300 is out of range for u8`.
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String>;
}

/// `expected {expected}, found {value's type}`.
fn mismatch(expected: &str, value: &FeatureValue) -> String {
    format!("expected {expected}, found {}", value.type_name())
}

/// The integer held by an `Int` value, or by a JSON number when `json` is set (where
/// [`IntoFeatureValue`] keeps integers beyond `i64`), converted to `T` with a range check.
fn integer<T: TryFrom<i128>>(value: &FeatureValue, json: bool, name: &str) -> Result<T, String> {
    let wide = match value {
        FeatureValue::Int(v) => i128::from(*v),
        FeatureValue::Json(serde_json::Value::Number(n)) if json => {
            match (n.as_i64(), n.as_u64()) {
                (Some(v), _) => i128::from(v),
                (None, Some(v)) => i128::from(v),
                (None, None) => return Err(format!("json number {n} is not an integer")),
            }
        }
        _ if json => return Err(mismatch("int or json number", value)),
        _ => return Err(mismatch("int", value)),
    };
    T::try_from(wide).map_err(|_| format!("int {wide} is out of range for {name}"))
}

macro_rules! int_from_features {
    ($json:literal: $($t:ty),*) => {$(
        impl FromFeatureValue for $t {
            fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
                integer(value, $json, stringify!($t))
            }
        }
    )*};
}
int_from_features!(false: i8, i16, i32, i64, u8, u16, u32);
int_from_features!(true: u64, usize, isize);

impl FromFeatureValue for bool {
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        match value {
            FeatureValue::Bool(v) => Ok(*v),
            other => Err(mismatch("bool", other)),
        }
    }
}

impl FromFeatureValue for f64 {
    /// A `Float`, or an `Int` or JSON number as the nearest `f64`.
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        match value {
            FeatureValue::Float(v) => Ok(*v),
            // Beyond 2^53 this rounds, as any integer-to-float conversion does.
            FeatureValue::Int(v) => Ok(*v as f64),
            FeatureValue::Json(serde_json::Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| format!("json number {n} is not a float")),
            other => Err(mismatch("float or int", other)),
        }
    }
}

impl FromFeatureValue for f32 {
    /// As for `f64`, rounded to the nearest `f32`; a finite value beyond `f32`'s range is an
    /// error.
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        let wide = f64::from_feature_value(value)?;
        let narrow = wide as f32; // rounds to nearest; overflow becomes infinity
        if narrow.is_infinite() && wide.is_finite() {
            return Err(format!("float {wide:e} is out of range for f32"));
        }
        Ok(narrow)
    }
}

impl FromFeatureValue for String {
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        match value {
            FeatureValue::String(v) => Ok(v.clone()),
            other => Err(mismatch("string", other)),
        }
    }
}

impl FromFeatureValue for Timestamp {
    /// A `Timestamp`, or a string in RFC 3339 as [`FeatureValue::to_json`] renders one: stores
    /// that keep lists as JSON hand back a list of timestamps as a list of such strings.
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        match value {
            FeatureValue::Timestamp(v) => Ok(*v),
            FeatureValue::String(text) => Timestamp::parse_rfc3339(text)
                .map_err(|error| format!("expected timestamp, found string {text:?}: {error}")),
            other => Err(mismatch("timestamp", other)),
        }
    }
}

impl FromFeatureValue for SystemTime {
    /// The instant of a `Timestamp` value, to the millisecond (as it was stored).
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        Timestamp::from_feature_value(value).map(Timestamp::to_system_time)
    }
}

impl FromFeatureValue for serde_json::Value {
    /// Any value, as [`FeatureValue::to_json`] renders it.
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        Ok(value.to_json())
    }
}

impl<T: FromFeatureValue> FromFeatureValue for Vec<T> {
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        match value {
            FeatureValue::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    T::from_feature_value(item).map_err(|error| format!("list item {i}: {error}"))
                })
                .collect(),
            other => Err(mismatch("list", other)),
        }
    }
}

/// Types a `#[primary]` field can be read back as: the inverse of [`PrimaryKey`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read back as a primary key",
    label = "unsupported primary key type",
    note = "a #[primary] field is a String or an integer"
)]
pub trait FromPrimaryKey: Sized {
    /// Parses a key as the store keeps it.
    ///
    /// # Errors
    ///
    /// Why `key` is not this type's text, e.g. `` `-1` does not parse as u64 ``. An integer
    /// key must be written as [`PrimaryKey::to_key`] writes it (no `+`, no leading zeros), so
    /// that the value read back writes to the same entity.
    fn from_key(key: &str) -> Result<Self, String>;
}

impl FromPrimaryKey for String {
    fn from_key(key: &str) -> Result<Self, String> {
        Ok(key.to_owned())
    }
}

macro_rules! parsed_keys {
    ($($t:ty),*) => {$(
        impl FromPrimaryKey for $t {
            fn from_key(key: &str) -> Result<Self, String> {
                match key.parse::<$t>() {
                    Ok(parsed) if parsed.to_string() == key => Ok(parsed),
                    Ok(parsed) => Err(format!(
                        "`{key}` is not a canonical {} key (the key of {parsed} is `{parsed}`)",
                        stringify!($t),
                    )),
                    Err(_) => Err(format!("`{key}` does not parse as {}", stringify!($t))),
                }
            }
        }
    )*};
}
parsed_keys!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, usize, isize);

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

    fn read<T: FromFeatureValue>(value: FeatureValue) -> Result<T, String> {
        T::from_feature_value(&value)
    }

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(read::<u8>(FeatureValue::Int(255)), Ok(255));
        assert_eq!(
            read::<u8>(FeatureValue::Int(256)),
            Err("int 256 is out of range for u8".to_owned())
        );
        assert_eq!(
            read::<u32>(FeatureValue::Int(-1)),
            Err("int -1 is out of range for u32".to_owned())
        );
        assert_eq!(read::<i8>(FeatureValue::Int(-128)), Ok(-128));
        assert!(read::<i8>(FeatureValue::Int(-129)).is_err());
        assert_eq!(
            read::<i16>(FeatureValue::Int(i64::from(i16::MAX))),
            Ok(i16::MAX)
        );
        assert!(read::<i32>(FeatureValue::Int(i64::from(i32::MAX) + 1)).is_err());
        assert_eq!(read::<i64>(FeatureValue::Int(i64::MIN)), Ok(i64::MIN));
        assert!(read::<u16>(FeatureValue::Int(65_536)).is_err());
        assert_eq!(
            read::<i64>(FeatureValue::String("1".to_owned())),
            Err("expected int, found string".to_owned())
        );
        // A narrow integer never comes from JSON: the write side never produces it.
        assert_eq!(
            read::<i64>(FeatureValue::Json(serde_json::json!(1))),
            Err("expected int, found json".to_owned())
        );
    }

    #[test]
    fn wide_integers_read_beyond_i64_from_json() {
        assert_eq!(read::<u64>(u64::MAX.into_feature_value()), Ok(u64::MAX));
        assert_eq!(read::<u64>(FeatureValue::Int(7)), Ok(7));
        assert_eq!(
            read::<u64>(FeatureValue::Int(-7)),
            Err("int -7 is out of range for u64".to_owned())
        );
        assert_eq!(
            read::<usize>(usize::MAX.into_feature_value()),
            Ok(usize::MAX)
        );
        assert_eq!(
            read::<isize>(isize::MIN.into_feature_value()),
            Ok(isize::MIN)
        );
        assert!(read::<isize>(u64::MAX.into_feature_value()).is_err());
        assert_eq!(
            read::<u64>(FeatureValue::Json(serde_json::json!(1.5))),
            Err("json number 1.5 is not an integer".to_owned())
        );
        assert_eq!(
            read::<u64>(FeatureValue::Bool(true)),
            Err("expected int or json number, found bool".to_owned())
        );
    }

    #[test]
    fn floats_accept_integers_and_check_f32_range() {
        assert_eq!(read::<f64>(FeatureValue::Float(0.5)), Ok(0.5));
        assert_eq!(read::<f64>(FeatureValue::Int(-3)), Ok(-3.0));
        assert_eq!(read::<f32>(1.25_f32.into_feature_value()), Ok(1.25));
        assert_eq!(read::<f32>(FeatureValue::Int(2)), Ok(2.0));
        assert_eq!(
            read::<f32>(FeatureValue::Float(1e300)),
            Err("float 1e300 is out of range for f32".to_owned())
        );
        assert_eq!(
            read::<f32>(FeatureValue::Float(f64::INFINITY)),
            Ok(f32::INFINITY)
        );
        assert_eq!(
            read::<f64>(FeatureValue::String("x".to_owned())),
            Err("expected float or int, found string".to_owned())
        );
    }

    #[test]
    fn other_types_round_trip_and_name_the_mismatch() {
        let time = Timestamp::from_millis(1_700_000_000_123);
        assert_eq!(read::<bool>(true.into_feature_value()), Ok(true));
        assert_eq!(read::<String>("a".into_feature_value()), Ok("a".to_owned()));
        assert_eq!(read::<Timestamp>(time.into_feature_value()), Ok(time));
        assert_eq!(
            read::<SystemTime>(time.to_system_time().into_feature_value()),
            Ok(time.to_system_time())
        );
        assert_eq!(
            read::<Timestamp>(FeatureValue::Int(5)),
            Err("expected timestamp, found int".to_owned())
        );
        // Inside lists, text-keeping stores hand timestamps back as RFC 3339 strings.
        assert_eq!(
            read::<Vec<Timestamp>>(FeatureValue::from_json(
                vec![time].into_feature_value().to_json()
            )),
            Ok(vec![time])
        );
        assert_eq!(
            read::<Timestamp>(FeatureValue::String("red".to_owned())),
            Err(
                "expected timestamp, found string \"red\": `red` is not an RFC 3339 timestamp"
                    .to_owned()
            )
        );
        assert_eq!(
            read::<bool>(FeatureValue::Int(1)),
            Err("expected bool, found int".to_owned())
        );
        assert_eq!(
            read::<String>(FeatureValue::Int(1)),
            Err("expected string, found int".to_owned())
        );
        let nested = serde_json::json!({"a": [1, null]});
        assert_eq!(
            read::<serde_json::Value>(nested.clone().into_feature_value()),
            Ok(nested)
        );
        assert_eq!(
            read::<serde_json::Value>(FeatureValue::Int(3)),
            Ok(serde_json::json!(3))
        );
        assert_eq!(
            read::<Vec<u8>>(vec![1_u8, 2].into_feature_value()),
            Ok(vec![1, 2])
        );
        assert_eq!(
            read::<Vec<u8>>(FeatureValue::List(vec![
                FeatureValue::Int(1),
                FeatureValue::Int(300)
            ])),
            Err("list item 1: int 300 is out of range for u8".to_owned())
        );
        assert_eq!(
            read::<Vec<String>>(FeatureValue::String("a".to_owned())),
            Err("expected list, found string".to_owned())
        );
    }

    #[test]
    fn keys_parse_only_as_written() {
        assert_eq!(String::from_key("u1"), Ok("u1".to_owned()));
        assert_eq!(u64::from_key("42"), Ok(42));
        assert_eq!(i128::from_key(&i128::MIN.to_key()), Ok(i128::MIN));
        assert_eq!(u128::from_key(&u128::MAX.to_key()), Ok(u128::MAX));
        assert_eq!(
            u8::from_key("256"),
            Err("`256` does not parse as u8".to_owned())
        );
        assert_eq!(
            u64::from_key("-1"),
            Err("`-1` does not parse as u64".to_owned())
        );
        assert_eq!(
            i32::from_key("u1"),
            Err("`u1` does not parse as i32".to_owned())
        );
        assert_eq!(
            u64::from_key("042"),
            Err("`042` is not a canonical u64 key (the key of 42 is `42`)".to_owned())
        );
        assert!(i64::from_key("+5").is_err());
        assert!(i64::from_key("").is_err());
    }
}
