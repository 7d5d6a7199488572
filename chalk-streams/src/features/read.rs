//! Reading features back: from stored values to the field types of a Features struct.

use std::time::SystemTime;

use super::FeatureValue;
use crate::message::Timestamp;

/// Types a feature field can be read back as: the inverse of [`IntoFeatureValue`](super::IntoFeatureValue).
///
/// Each type reads what its `IntoFeatureValue` writes. Beyond that: integers are range-checked
/// (so a value written as `i64` reads as `u8` when it fits); floats also read integers;
/// `Timestamp` and `SystemTime` also read RFC 3339 strings (a list of timestamps comes back
/// from stores that keep lists as JSON as a list of strings); `serde_json::Value` reads any
/// value, as [`FeatureValue::to_json`] renders it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read back as a feature value",
    label = "unsupported feature type",
    note = "features are read back as bool, integers, floats, String, Timestamp, SystemTime, Vec of those, or serde_json::Value for nested data",
    note = "an optional feature is `Option<T>` written as such: under another name (a type alias) the derive cannot see the `Option`"
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
    /// A `Float`, or an `Int` or JSON number as the nearest `f64`; also the strings `"NaN"`,
    /// `"inf"` and `"-inf"`, which stand for those floats in JSON (in a list, say).
    fn from_feature_value(value: &FeatureValue) -> Result<Self, String> {
        match value {
            FeatureValue::Float(v) => Ok(*v),
            FeatureValue::String(s) if matches!(s.as_str(), "NaN" | "inf" | "-inf") => {
                s.parse().map_err(|e| format!("{s:?}: {e}"))
            }
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

/// Types a `#[primary]` field can be read back as: the inverse of [`PrimaryKey`](super::PrimaryKey).
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
    /// key must be written as [`PrimaryKey::into_key`](super::PrimaryKey::into_key) writes it (no `+`, no leading zeros), so
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
