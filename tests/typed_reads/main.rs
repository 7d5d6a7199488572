//! Typed reads: an entity written through `FeatureStore::write` reads back as its
//! `#[derive(Features)]` type with each feature's time, from every store (memory, SQLite,
//! Redis); what is missing or of the wrong type is a `ReadError::Decode` naming the feature.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chalk_streams::features::PrimaryKey;
use chalk_streams::prelude::*;
use chalk_streams::store::{
    Entity, FeatureStore, FeatureStoreExt, MemoryStore, ReadError, SqliteStore, Stored,
};
use chalk_streams::{FeatureRow, FeatureValue};
use serde_json::json;

const T1: Timestamp = Timestamp::from_millis(1_700_000_000_000);
const T2: Timestamp = Timestamp::from_millis(1_700_000_060_000);

/// Every type a feature can have, required and optional, under an integer key.
#[derive(Features, Debug, Clone, PartialEq)]
struct Everything {
    #[primary]
    id: u64,
    flag: bool,
    tiny: i8,
    small: i16,
    medium: i32,
    large: i64,
    byte: u8,
    short: u16,
    word: u32,
    huge: u64,
    size: usize,
    signed_size: isize,
    ratio: f32,
    score: f64,
    name: String,
    seen_at: Timestamp,
    moments: Vec<Timestamp>,
    wall_clock: SystemTime,
    payload: serde_json::Value,
    tags: Vec<String>,
    matrix: Vec<Vec<i64>>,
    nickname: Option<String>,
    last_login: Option<Timestamp>,
    lucky_numbers: Option<Vec<u32>>,
    extra: Option<serde_json::Value>,
    maybe_huge: Option<u64>,
}

#[derive(Features, Debug, Clone, PartialEq)]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<String>,
    age: i64,
}

/// Integers beyond `i64`, which are stored as JSON numbers, under an `i128` key.
#[derive(Features, Debug, Clone, PartialEq)]
struct Wide {
    #[primary]
    id: i128,
    huge: u64,
    size: usize,
    maybe_huge: Option<u64>,
}

fn wide() -> Wide {
    Wide {
        id: i128::MIN,
        huge: u64::MAX,
        size: usize::MAX,
        maybe_huge: Some(u64::MAX - 1),
    }
}

/// The same namespace as `User`, with a narrower `age`.
mod narrow {
    use chalk_streams::prelude::*;

    #[derive(Features, Debug)]
    pub struct User {
        #[primary]
        pub uid: String,
        pub age: u8,
    }
}

fn full(id: u64) -> Everything {
    Everything {
        id,
        flag: true,
        tiny: i8::MIN,
        small: i16::MAX,
        medium: -123_456,
        large: i64::MIN,
        byte: u8::MAX,
        short: u16::MAX,
        word: u32::MAX,
        huge: i64::MAX as u64,
        size: 1 << 40,
        signed_size: isize::MIN,
        ratio: 0.1,
        score: -2.5e-300,
        name: "Zoë \"quoted\"\n".to_owned(),
        seen_at: Timestamp::from_millis(1_234),
        moments: vec![T1, T2],
        wall_clock: UNIX_EPOCH + Duration::from_millis(1_600_000_000_123),
        payload: json!({"nested": [1, null, {"a": "b"}], "big": u64::MAX}),
        tags: vec!["a".to_owned(), String::new(), "c".to_owned()],
        matrix: vec![vec![1, 2], vec![], vec![i64::MAX]],
        nickname: Some("zo".to_owned()),
        last_login: Some(T1),
        lucky_numbers: Some(vec![7, 13]),
        extra: Some(json!(null)),
        maybe_huge: Some(5),
    }
}

fn sparse(id: u64) -> Everything {
    Everything {
        nickname: None,
        last_login: None,
        lucky_numbers: None,
        extra: None,
        maybe_huge: None,
        ..full(id)
    }
}

const OPTIONAL: [&str; 5] = [
    "nickname",
    "last_login",
    "lucky_numbers",
    "extra",
    "maybe_huge",
];

fn raw(
    namespace: &'static str,
    key: &str,
    values: Vec<(&'static str, FeatureValue)>,
) -> FeatureRow {
    FeatureRow {
        namespace,
        primary_key: key.to_owned(),
        values,
        time: T1,
    }
}

async fn read<F: Features>(
    store: &dyn FeatureStore,
    key: impl PrimaryKey + Send + Sync,
) -> Stored<F> {
    store.get::<F>(key).await.expect("read").expect("stored")
}

async fn decode_error<F: Features + std::fmt::Debug>(
    store: &dyn FeatureStore,
    key: &str,
) -> (String, String, String) {
    match store.get::<F>(key).await {
        Err(ReadError::Decode {
            namespace,
            key,
            message,
        }) => (namespace, key, message),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

mod handles;
mod round_trips;
