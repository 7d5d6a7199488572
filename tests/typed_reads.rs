//! Typed reads: an entity written through `FeatureStore::write` reads back as its
//! `#[derive(Features)]` type with each feature's time, from every store (memory, SQLite,
//! Redis); what is missing or of the wrong type is a `ReadError::Decode` naming the feature.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chalk_streams::features::PrimaryKey;
use chalk_streams::prelude::*;
use chalk_streams::store::{
    Entity, FeatureStore, FeatureStoreExt, MemoryStore, ReadError, RedisStore, SqliteStore,
    StoreError, Stored,
};
use chalk_streams::{FeatureRow, FeatureValue};
use futures::future::{self, BoxFuture};
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

async fn every_type_round_trips(store: &dyn FeatureStore) {
    store
        .write(&[full(1).into_row(T1), sparse(2).into_row(T2)])
        .await
        .expect("write");

    let stored = read::<Everything>(store, 1_u64).await;
    assert_eq!(stored.value, full(1));
    assert_eq!(stored.times.len(), Everything::FEATURES.len());
    assert!(stored.times.values().all(|time| *time == T1));
    assert_eq!(stored.time("score"), Some(T1));
    assert_eq!(
        stored.time("id"),
        None,
        "the primary key has no feature time"
    );

    let stored = read::<Everything>(store, 2_u64).await;
    assert_eq!(
        stored.value,
        sparse(2),
        "absent Option features read as None"
    );
    for feature in OPTIONAL {
        assert_eq!(stored.time(feature), None, "{feature} is not stored");
    }
    assert_eq!(
        stored.times.len(),
        Everything::FEATURES.len() - OPTIONAL.len()
    );
    assert!(stored.times.values().all(|time| *time == T2));
}

async fn each_feature_keeps_its_own_time(store: &dyn FeatureStore) {
    store.write(&[full(3).into_row(T1)]).await.expect("write");
    // A later row without the optional features: they keep their value and time.
    let later = Everything {
        name: "renamed".to_owned(),
        ..sparse(3)
    };
    store.write(&[later.into_row(T2)]).await.expect("write");

    let stored = read::<Everything>(store, 3_u64).await;
    assert_eq!(
        stored.value,
        Everything {
            name: "renamed".to_owned(),
            ..full(3)
        }
    );
    assert_eq!(stored.time("name"), Some(T2));
    assert_eq!(stored.time("flag"), Some(T2));
    for feature in OPTIONAL {
        assert_eq!(stored.time(feature), Some(T1), "{feature} kept its time");
    }
}

async fn absent_entities_read_as_none(store: &dyn FeatureStore) {
    assert!(store
        .get::<Everything>(404_u64)
        .await
        .expect("read")
        .is_none());
    assert!(store.get::<User>("nobody").await.expect("read").is_none());
}

async fn unknown_features_are_ignored(store: &dyn FeatureStore) {
    store
        .write(&[raw(
            "user",
            "extra",
            vec![
                ("age", FeatureValue::Int(41)),
                ("retired_feature", FeatureValue::Bool(true)),
            ],
        )])
        .await
        .expect("write");
    let stored = read::<User>(store, "extra").await;
    assert_eq!(
        stored.value,
        User {
            uid: "extra".to_owned(),
            favorite_color: None,
            age: 41,
        }
    );
    assert_eq!(stored.times.keys().collect::<Vec<_>>(), ["age"]);
}

async fn a_missing_required_feature_is_a_decode_error(store: &dyn FeatureStore) {
    store
        .write(&[raw(
            "user",
            "u1",
            vec![("favorite_color", FeatureValue::String("red".to_owned()))],
        )])
        .await
        .expect("write");
    let (namespace, key, message) = decode_error::<User>(store, "u1").await;
    assert_eq!((namespace.as_str(), key.as_str()), ("user", "u1"));
    assert_eq!(message, "feature `age` of user `u1` is not stored");

    let error = store.get::<User>("u1").await.expect_err("decode error");
    assert_eq!(
        error.to_string(),
        "feature `age` of user `u1` is not stored"
    );
}

async fn a_wrong_stored_type_is_a_decode_error(store: &dyn FeatureStore) {
    store
        .write(&[raw(
            "user",
            "u2",
            vec![("age", FeatureValue::String("forty".to_owned()))],
        )])
        .await
        .expect("write");
    let (_, _, message) = decode_error::<User>(store, "u2").await;
    assert_eq!(
        message,
        "feature `age` of user `u2`: expected int, found string"
    );

    // An Option feature of the wrong type is an error too, not `None`.
    store
        .write(&[raw(
            "user",
            "u3",
            vec![
                ("age", FeatureValue::Int(3)),
                ("favorite_color", FeatureValue::Int(0xff0000)),
            ],
        )])
        .await
        .expect("write");
    let (_, _, message) = decode_error::<User>(store, "u3").await;
    assert_eq!(
        message,
        "feature `favorite_color` of user `u3`: expected string, found int"
    );
}

async fn an_out_of_range_value_is_a_decode_error(store: &dyn FeatureStore) {
    store
        .write(&[User {
            uid: "old".to_owned(),
            favorite_color: None,
            age: 300,
        }
        .into_row(T1)])
        .await
        .expect("write");
    let (namespace, key, message) = decode_error::<narrow::User>(store, "old").await;
    assert_eq!((namespace.as_str(), key.as_str()), ("user", "old"));
    assert_eq!(
        message,
        "feature `age` of user `old`: int 300 is out of range for u8"
    );
    // The same entity reads fine as the type that wrote it.
    assert_eq!(read::<User>(store, "old").await.value.age, 300);
}

async fn a_key_of_another_type_is_a_decode_error(store: &dyn FeatureStore) {
    store
        .write(&[raw(
            "everything",
            "abc",
            vec![("flag", FeatureValue::Bool(true))],
        )])
        .await
        .expect("write");
    let (namespace, key, message) = decode_error::<Everything>(store, "abc").await;
    assert_eq!((namespace.as_str(), key.as_str()), ("everything", "abc"));
    assert_eq!(
        message,
        "primary key `id` of everything `abc`: `abc` does not parse as u64"
    );
}

async fn suite(store: Arc<dyn FeatureStore>) {
    every_type_round_trips(&*store).await;
    each_feature_keeps_its_own_time(&*store).await;
    absent_entities_read_as_none(&*store).await;
    unknown_features_are_ignored(&*store).await;
    a_missing_required_feature_is_a_decode_error(&*store).await;
    a_wrong_stored_type_is_a_decode_error(&*store).await;
    an_out_of_range_value_is_a_decode_error(&*store).await;
    a_key_of_another_type_is_a_decode_error(&*store).await;
}

async fn integers_beyond_i64_round_trip(store: &dyn FeatureStore) {
    store.write(&[wide().into_row(T1)]).await.expect("write");
    let stored = read::<Wide>(store, i128::MIN).await;
    assert_eq!(stored.value, wide());
    assert_eq!(stored.time("maybe_huge"), Some(T1));
}

#[tokio::test]
async fn memory_store() {
    let store = Arc::new(MemoryStore::new());
    suite(store.clone()).await;
    integers_beyond_i64_round_trip(&*store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    suite(Arc::new(SqliteStore::open(&path).expect("open"))).await;
    // Read back through a second handle on the file: the values came from disk.
    let reopened = SqliteStore::open(&path).expect("reopen");
    assert_eq!(read::<Everything>(&reopened, 1_u64).await.value, full(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store() {
    let server = suite::RedisServer::start();
    let store = Arc::new(RedisStore::open(&server.url()).expect("open"));
    suite(store.clone()).await;
    integers_beyond_i64_round_trip(&*store).await;
}

/// A u64 beyond i64 is stored as the JSON text `18446744073709551615`: it must come back as that
/// text, not as a number SQLite converted it to.
#[tokio::test]
async fn sqlite_store_integers_beyond_i64() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("features.sqlite")).expect("open");
    integers_beyond_i64_round_trip(&store).await;
}

/// `get` reads on every way a store is held, with each kind of key.
#[tokio::test]
async fn get_is_callable_on_every_store_handle() -> Result<(), ReadError> {
    let user = || User {
        uid: "u1".to_owned(),
        favorite_color: Some("red".to_owned()),
        age: 30,
    };
    let memory = MemoryStore::new();
    memory.write(&[user().into_row(T1)]).await?;
    let by_ref: &MemoryStore = &memory;
    assert_eq!(
        by_ref.get::<User>("u1").await?.map(|s| s.value),
        Some(user())
    );

    let uid = String::from("u1");
    assert!(memory.get::<User>(uid.as_str()).await?.is_some());
    assert!(memory.get::<User>(uid.clone()).await?.is_some());

    let shared: Arc<dyn FeatureStore> = Arc::new(memory);
    assert_eq!(
        shared.get::<User>("u1").await?.map(|s| s.value),
        Some(user())
    );
    assert_eq!(
        shared
            .as_ref()
            .get::<User>("u1")
            .await?
            .and_then(|s| s.time("age")),
        Some(T1)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteStore::open(dir.path().join("features.sqlite"))?;
    sqlite.write(&[full(7).into_row(T1)]).await?;
    assert_eq!(
        sqlite.get::<Everything>(7_u64).await?.map(|s| s.value),
        Some(full(7))
    );
    assert_eq!(
        sqlite.get::<Everything>(7_u8).await?.map(|s| s.value.id),
        Some(7)
    );
    assert!(sqlite.get::<Everything>("7").await?.is_some());
    Ok(())
}

/// A store whose every operation fails as unavailable.
struct Down;

fn down<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, StoreError>> {
    Box::pin(future::ready(Err(StoreError::Unavailable(
        "down".to_owned(),
    ))))
}

impl FeatureStore for Down {
    fn write<'s, 'r, 'f>(&'s self, _: &'r [FeatureRow]) -> BoxFuture<'f, Result<(), StoreError>>
    where
        's: 'f,
        'r: 'f,
    {
        down()
    }

    fn entity<'s, 'n, 'k, 'f>(
        &'s self,
        _: &'n str,
        _: &'k str,
    ) -> BoxFuture<'f, Result<Option<Entity>, StoreError>>
    where
        's: 'f,
        'n: 'f,
        'k: 'f,
    {
        down()
    }

    fn scan<'s, 'f>(&'s self) -> BoxFuture<'f, Result<Vec<Entity>, StoreError>>
    where
        's: 'f,
    {
        down()
    }
}

/// A store failure is `ReadError::Store`, with the store's message.
#[tokio::test]
async fn store_failures_pass_through() {
    let error = Down.get::<User>("u1").await.expect_err("store down");
    assert!(matches!(
        error,
        ReadError::Store(StoreError::Unavailable(_))
    ));
    assert_eq!(error.to_string(), "feature store unavailable: down");
}
