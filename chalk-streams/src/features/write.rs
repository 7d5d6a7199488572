//! Writing features: the field types `#[derive(Features)]` accepts and how they convert.

use std::time::SystemTime;

use super::FeatureValue;
use crate::message::Timestamp;

/// Types a feature field can have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a feature value",
    label = "unsupported feature type",
    note = "features are bool, integers, floats, String, Timestamp, SystemTime, Vec of those, or serde_json::Value for nested data",
    note = "an optional feature is `Option<T>` written as such: under another name (a type alias) the derive cannot see the `Option`"
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
    /// Widened through the shortest decimal that reads back as this `f32`: `0.1_f32` is stored
    /// as 0.1, where `f64::from` gives 0.10000000149011612 (exact, but what a reader of the
    /// store then sees). Read back as an `f32`, either is the same value.
    fn into_feature_value(self) -> FeatureValue {
        let exact = f64::from(self);
        let shortest = self.to_string().parse::<f64>().unwrap_or(exact);
        let reads_back = shortest as f32 == self || self.is_nan();
        FeatureValue::Float(if reads_back { shortest } else { exact })
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
    /// The key as the store keeps it. Takes the key by value, so that a `String` is moved into
    /// the row, not copied.
    fn into_key(self) -> String;
}

impl PrimaryKey for String {
    fn into_key(self) -> String {
        self
    }
}

macro_rules! display_keys {
    ($($t:ty),*) => {$(
        impl PrimaryKey for $t {
            fn into_key(self) -> String {
                self.to_string()
            }
        }
    )*};
}
display_keys!(&str, i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, usize, isize);
