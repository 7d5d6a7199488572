//! The same checks on every store: types, times, absent entities, unknown features, and each kind of decode error.

use chalk_streams::store::RedisStore;

use super::*;

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

/// A window stream's features, `field[size]`, read by their window size; `get` reads the
/// entity's other features only.
async fn window_features_read_by_their_size(store: &dyn FeatureStore) {
    store
        .write(&[raw(
            "user",
            "windowed",
            vec![
                ("age[10m]", FeatureValue::Int(3)),
                ("age[1h]", FeatureValue::Int(7)),
                ("favorite_color[1h]", FeatureValue::String("red".to_owned())),
                ("age", FeatureValue::Int(40)),
            ],
        )])
        .await
        .expect("write");
    let window = |size: &'static str| async move {
        store
            .get_window::<User>("windowed", size)
            .await
            .expect("read")
    };
    let ten_minutes = window("10m").await.expect("stored for 10m");
    assert_eq!(
        ten_minutes.value,
        User {
            uid: "windowed".to_owned(),
            favorite_color: None,
            age: 3,
        }
    );
    assert_eq!(ten_minutes.times.keys().collect::<Vec<_>>(), ["age"]);
    let hour = window("1h").await.expect("stored for 1h");
    assert_eq!(
        (hour.value.age, hour.value.favorite_color),
        (7, Some("red".to_owned()))
    );
    assert!(window("5m").await.is_none(), "no window of 5 minutes");
    assert!(store
        .get_window::<User>("nobody", "10m")
        .await
        .expect("read")
        .is_none());
    assert_eq!(read::<User>(store, "windowed").await.value.age, 40);
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
    window_features_read_by_their_size(&*store).await;
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
