//! Features: typed values about an entity, keyed by its primary key.
//!
//! `#[derive(Features)]` implements [`Features`] for a struct with one `#[primary]` field. Every
//! other field is a feature; an `Option` field is a feature the resolver may leave unset.
//!
//! Writing goes through [`IntoFeatureValue`] and [`PrimaryKey`]; reading an entity back as its
//! type goes through [`FromFeatureValue`] and [`FromPrimaryKey`].

mod buffers;
mod read;
mod value;
mod write;

use std::collections::BTreeMap;

use crate::message::Timestamp;
use crate::store::StoredFeature;

pub(crate) use buffers::recycle;
pub use buffers::values_with_capacity;
pub use read::{FromFeatureValue, FromPrimaryKey};
pub use value::FeatureValue;
pub use write::{IntoFeatureValue, PrimaryKey};

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

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
    fn an_f32_is_stored_as_its_shortest_decimal_and_reads_back_the_same() {
        assert_eq!(0.1_f32.into_feature_value(), FeatureValue::Float(0.1));
        for value in [
            0.1_f32,
            -3.4e38,
            f32::MAX,
            f32::MIN_POSITIVE,
            1e-45,
            -0.0,
            f32::INFINITY,
            16_777_217.0,
        ] {
            let stored = value.into_feature_value();
            let back = read::<f32>(stored.clone()).expect("an f32");
            assert_eq!(
                back.to_bits(),
                value.to_bits(),
                "{value} stored as {stored:?}"
            );
        }
        let FeatureValue::Float(nan) = f32::NAN.into_feature_value() else {
            panic!("a float")
        };
        assert!(nan.is_nan());
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
        assert_eq!(i128::from_key(&i128::MIN.into_key()), Ok(i128::MIN));
        assert_eq!(u128::from_key(&u128::MAX.into_key()), Ok(u128::MAX));
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
