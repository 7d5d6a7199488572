//! The SQLite store's own: durable across handles, page size, the schemas of earlier files, rows updated by id, rows handed back.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    behaviour_suite(Arc::new(SqliteStore::open(&path).expect("open"))).await;
    // Durable: a second handle on the file sees everything.
    let reopened = SqliteStore::open(&path).expect("reopen");
    assert_eq!(
        value(&reopened, "u3", "color").await,
        Some((text("recomputed"), 40))
    );
    assert_eq!(page_size(&path), 16 * 1024, "a new file has 16 KiB pages");
}

fn page_size(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .expect("open")
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .expect("page size")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_refuses_the_first_files_typed_value_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    rusqlite::Connection::open(&path)
        .expect("create")
        .execute_batch(
            "CREATE TABLE features (
                namespace TEXT NOT NULL, entity_key TEXT NOT NULL, feature TEXT NOT NULL,
                value ANY, value_type TEXT NOT NULL, feature_time INTEGER NOT NULL,
                PRIMARY KEY (namespace, entity_key, feature)
            ) WITHOUT ROWID;",
        )
        .expect("first schema");
    match SqliteStore::open(&path) {
        Err(StoreError::Rejected(message)) => {
            assert!(message.contains("declared `ANY`"), "{message}");
        }
        other => panic!("opened a file that changes values: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_files_with_earlier_tables() {
    // Files made before the table had row ids, with either key order, keep their table.
    for key in [
        "namespace, entity_key, feature",
        "entity_key, namespace, feature",
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("features.sqlite");
        rusqlite::Connection::open(&path)
            .expect("create")
            .execute_batch(&format!(
                "CREATE TABLE features (
                    namespace TEXT NOT NULL, entity_key TEXT NOT NULL, feature TEXT NOT NULL,
                    value, value_type TEXT NOT NULL, feature_time INTEGER NOT NULL,
                    PRIMARY KEY ({key})
                ) WITHOUT ROWID;"
            ))
            .expect("earlier schema");
        behaviour_suite(Arc::new(SqliteStore::open(&path).expect("open"))).await;
        assert_eq!(page_size(&path), 4096, "an existing file keeps its pages");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_writes_land_on_their_own_rows() {
    // The store updates a feature written before by its row id; the row may have changed
    // under it meanwhile, and a store opened on an existing file learns the ids anew.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    let store = SqliteStore::open(&path).expect("open");
    store
        .write(&[row("u1", 10, vec![("color", text("red"))])])
        .await
        .expect("write");
    // Another connection moves u1's row id to a feature of u2's.
    rusqlite::Connection::open(&path)
        .expect("open")
        .execute_batch(
            "UPDATE features SET entity_key = 'u2', value = 'blue', feature_time = 5
             WHERE entity_key = 'u1';",
        )
        .expect("move the row");
    store
        .write(&[row("u1", 20, vec![("color", text("green"))])])
        .await
        .expect("write");
    assert_eq!(
        value(&store, "u1", "color").await,
        Some((text("green"), 20))
    );
    assert_eq!(value(&store, "u2", "color").await, Some((text("blue"), 5)));
    // A newer write after a late one, then a reopened store updating every row, twice.
    store
        .write(&[row("u1", 15, vec![("color", text("late"))])])
        .await
        .expect("write");
    drop(store);
    let reopened = SqliteStore::open(&path).expect("reopen");
    for time in [30, 40] {
        reopened
            .write(&[
                row("u1", time, vec![("color", text(&format!("u1 at {time}")))]),
                row("u2", time, vec![("color", text(&format!("u2 at {time}")))]),
            ])
            .await
            .expect("write");
    }
    assert_eq!(
        value(&reopened, "u1", "color").await,
        Some((text("u1 at 40"), 40))
    );
    assert_eq!(
        value(&reopened, "u2", "color").await,
        Some((text("u2 at 40"), 40))
    );
    assert_eq!(reopened.scan().await.expect("scan").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_hands_taken_rows_back_as_they_were() {
    // The runtime recycles rows after a write; SQLite lends them to its thread, not keeps them.
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("features.sqlite")).expect("open");
    let original = vec![
        row("u1", 10, vec![("color", text("red"))]),
        row("u2", 11, vec![("age", FeatureValue::Int(3))]),
    ];
    let mut rows = original.clone();
    store.write_taking(&mut rows).await.expect("write");
    assert_eq!(rows, original);
    assert_eq!(value(&store, "u1", "color").await, Some((text("red"), 10)));
    assert_eq!(
        value(&store, "u2", "age").await,
        Some((FeatureValue::Int(3), 11))
    );
}

/// A stored value that does not decode as its stored type is the data's fault, not the
/// store's availability: a distinct error, which names the feature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_value_that_does_not_decode_is_unreadable_not_unavailable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    let store = SqliteStore::open(&path).expect("open");
    store
        .write(&[row("u1", 10, vec![("seen", text("x"))])])
        .await
        .expect("write");
    rusqlite::Connection::open(&path)
        .expect("open")
        .execute_batch("UPDATE features SET value_type = 'timestamp' WHERE feature = 'seen';")
        .expect("corrupt the row");
    let error = store.entity("user", "u1").await.expect_err("unreadable");
    assert!(
        matches!(&error, StoreError::Unreadable(why) if why.starts_with("user/u1/seen: ")),
        "{error:?}"
    );
}

/// A row whose feature time or type another program wrote as something else than SQLite holds
/// for them (a time as a real number, a type as bytes) is unreadable too: reading again gives the
/// same answer, where a store unavailable would be waited out for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_row_of_the_wrong_column_types_is_unreadable_not_unavailable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    let store = SqliteStore::open(&path).expect("open");
    store
        .write(&[row(
            "u1",
            10,
            vec![("seen", text("x")), ("age", FeatureValue::Int(3))],
        )])
        .await
        .expect("write");
    for (change, column) in [
        ("feature_time = 10.5 WHERE feature = 'seen'", "feature_time"),
        ("value_type = x'696e74' WHERE feature = 'age'", "value_type"),
    ] {
        let other = rusqlite::Connection::open(&path).expect("open");
        other
            .execute_batch(&format!("UPDATE features SET {change};"))
            .expect("change the row");
        let error = store.entity("user", "u1").await.expect_err("unreadable");
        assert!(
            matches!(&error, StoreError::Unreadable(why) if why.contains(column)),
            "{error:?}"
        );
        let error = store.scan().await.expect_err("unreadable");
        assert!(matches!(&error, StoreError::Unreadable(_)), "{error:?}");
        other
            .execute_batch("UPDATE features SET feature_time = 10, value_type = 'string' WHERE feature = 'seen'; UPDATE features SET value_type = 'int' WHERE feature = 'age';")
            .expect("mend the row");
    }
}

/// Files written before NaN was stored as text hold it as NULL (SQLite's own way with a NaN
/// real): it reads back as NaN, and the rest of the store stays readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nan_stored_as_null_by_earlier_versions_reads_back_as_nan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    let store = SqliteStore::open(&path).expect("open");
    store
        .write(&[
            row("u1", 10, vec![("score", FeatureValue::Float(1.5))]),
            row("u2", 10, vec![("score", FeatureValue::Float(2.5))]),
        ])
        .await
        .expect("write");
    rusqlite::Connection::open(&path)
        .expect("open")
        .execute_batch("UPDATE features SET value = NULL WHERE entity_key = 'u1';")
        .expect("an earlier version's NaN");
    match value(&store, "u1", "score").await {
        Some((FeatureValue::Float(f), 10)) => assert!(f.is_nan(), "{f}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.scan().await.expect("scan").len(), 2);
}
