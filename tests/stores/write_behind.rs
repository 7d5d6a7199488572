//! The SQLite store's batches written behind: accepted at once, read back at once, durable (and
//! shown so by the durable mark) only once written, and refused at once if SQLite would refuse
//! them.

use std::path::PathBuf;
use std::time::Duration;

use chalk_streams::store::{DurableMark, WriteTicket};
use suite::sqlite_file::stored_rows;

use super::*;

const AN_HOUR: Duration = Duration::from_secs(3600);

/// A store in a file of a new directory (removed when the directory is dropped), writing
/// accepted batches `flush_interval` after the first.
fn new_store(flush_interval: Duration) -> (tempfile::TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    let store = SqliteStore::open_with_flush_interval(&path, flush_interval).expect("open");
    (dir, path, store)
}

/// Waits until the durable mark reaches `ticket`; panics after `bound`.
async fn written_within(mark: &mut DurableMark, ticket: WriteTicket, bound: Duration) {
    tokio::time::timeout(bound, mark.wait_for(|mark| ticket.is_durable_at(*mark)))
        .await
        .unwrap_or_else(|_| panic!("not written within {bound:?}"))
        .expect("the store lives");
}

fn durable(store: &SqliteStore, ticket: WriteTicket) -> bool {
    let mark = store.durable_mark().expect("writes behind");
    let mark = *mark.borrow();
    ticket.is_durable_at(mark)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_batch_is_read_back_at_once_and_durable_once_written() {
    let (_dir, path, store) = new_store(AN_HOUR);
    let mut rows = vec![
        row("u1", 10, vec![("color", text("red"))]),
        row("u2", 10, vec![("color", text("blue"))]),
    ];
    let ticket = store.write_behind(&mut rows).await.expect("accepted");
    assert!(!durable(&store, ticket), "not written yet");
    assert_eq!(
        stored_rows(&path),
        0,
        "nothing in the file before the flush"
    );

    // A read sees what was accepted, laid over the file, which it leaves as it was.
    assert_eq!(value(&store, "u1", "color").await, Some((text("red"), 10)));
    let keys: Vec<String> = store
        .scan()
        .await
        .expect("scan")
        .into_iter()
        .map(|entity| entity.key)
        .collect();
    assert_eq!(keys, ["u1", "u2"]);
    assert!(!durable(&store, ticket), "a read writes nothing");
    assert_eq!(stored_rows(&path), 0);

    store.flush().await.expect("flushed");
    assert!(durable(&store, ticket), "durable once flushed");
    assert_eq!(stored_rows(&path), 2);
    assert_eq!(value(&store, "u2", "color").await, Some((text("blue"), 10)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_batches_are_written_within_the_flush_interval() {
    let (_dir, path, store) = new_store(Duration::from_millis(50));
    let mut mark = store.durable_mark().expect("writes behind");
    let ticket = store
        .write_behind(&mut [row("u1", 10, vec![("color", text("red"))])])
        .await
        .expect("accepted");
    // Nothing but the interval writes it: no read, no flush, no other write.
    written_within(&mut mark, ticket, Duration::from_secs(30)).await;
    assert_eq!(stored_rows(&path), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_one_after_another_do_not_put_off_the_timed_flush() {
    let (_dir, path, store) = new_store(Duration::from_millis(50));
    let store = Arc::new(store);
    let mut mark = store.durable_mark().expect("writes behind");
    let ticket = store
        .write_behind(&mut [row("u1", 10, vec![("color", text("red"))])])
        .await
        .expect("accepted");
    // Readers that keep the store's queue from ever being empty, as an application serving
    // features from the store while its streams run.
    let reading = std::sync::atomic::AtomicBool::new(true);
    let reading = Arc::new(reading);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (store, reading) = (Arc::clone(&store), Arc::clone(&reading));
            tokio::spawn(async move {
                while reading.load(std::sync::atomic::Ordering::Relaxed) {
                    let reads = (0..100).map(|_| store.entity("user", "u1"));
                    for read in futures::future::join_all(reads).await {
                        read.expect("read");
                    }
                }
            })
        })
        .collect();
    written_within(&mut mark, ticket, Duration::from_secs(30)).await;
    reading.store(false, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.await.expect("reader");
    }
    assert_eq!(stored_rows(&path), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_writes_of_one_feature_leave_the_newest_and_the_later_of_equals() {
    let (_dir, path, store) = new_store(AN_HOUR);
    store
        .write(&[row("u1", 20, vec![("color", text("stored"))])])
        .await
        .expect("written");
    for (time, color) in [
        (10, "older than stored"),
        (20, "equal"),
        (20, "later equal"),
    ] {
        store
            .write_behind(&mut [row("u1", time, vec![("color", text(color))])])
            .await
            .expect("accepted");
    }
    store
        .write_behind(&mut [row("u1", 15, vec![("color", text("older"))])])
        .await
        .expect("accepted");
    assert_eq!(
        value(&store, "u1", "color").await,
        Some((text("later equal"), 20)),
        "read over the file"
    );
    store.flush().await.expect("flushed");
    assert_eq!(
        value(&store, "u1", "color").await,
        Some((text("later equal"), 20)),
        "written"
    );
    assert_eq!(stored_rows(&path), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_sqlite_would_refuse_is_refused_when_handed_over_and_kept_as_it_was() {
    let (_dir, _, store) = new_store(AN_HOUR);
    let mut too_deep = json!(1);
    for _ in 0..200 {
        too_deep = json!([too_deep]);
    }
    let mut rows = vec![
        row("u1", 10, vec![("color", text("red"))]),
        row(
            "u2",
            10,
            vec![("doc", FeatureValue::Json(too_deep.clone()))],
        ),
    ];
    let refused = store.write_behind(&mut rows).await.expect_err("refused");
    assert!(matches!(refused, StoreError::Rejected(_)), "{refused:?}");
    assert_eq!(rows[0].primary_key, "u1", "the rows are as they were");
    assert_eq!(rows[1].values, vec![("doc", FeatureValue::Json(too_deep))]);
    assert_eq!(
        store.scan().await.expect("scan"),
        Vec::new(),
        "nothing kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_that_fails_keeps_what_was_accepted_for_the_next() {
    let (_dir, path, store) = new_store(AN_HOUR);
    let ticket = store
        .write_behind(&mut [row("u1", 10, vec![("color", text("red"))])])
        .await
        .expect("accepted");
    // Another process holds the file's write lock past the store's busy timeout (5 s).
    let other = rusqlite::Connection::open(&path).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("locked");
    let failed = store.flush().await.expect_err("the file is locked");
    assert!(
        matches!(&failed, StoreError::Unavailable(why) if why.contains("locked")),
        "{failed:?}"
    );
    assert!(!durable(&store, ticket));
    // Until a write succeeds, the store is unavailable to the next batch, which is left as it
    // was for the caller's retry.
    let mut next = vec![row("u2", 10, vec![("color", text("blue"))])];
    let refused = store.write_behind(&mut next).await.expect_err("failing");
    assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
    assert_eq!(next[0].primary_key, "u2");
    assert_eq!(next[0].values, vec![("color", text("blue"))]);
    assert_eq!(
        value(&store, "u1", "color").await,
        Some((text("red"), 10)),
        "reads go on, and see what waits"
    );
    other.execute_batch("ROLLBACK").expect("unlocked");
    store.flush().await.expect("flushed");
    assert!(durable(&store, ticket));
    assert_eq!(stored_rows(&path), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_interval_of_zero_writes_each_batch_before_it_returns() {
    let (_dir, path, store) = new_store(Duration::ZERO);
    assert!(store.durable_mark().is_none());
    let ticket = store
        .write_behind(&mut [row("u1", 10, vec![("color", text("red"))])])
        .await
        .expect("written");
    assert_eq!(ticket, WriteTicket::DURABLE);
    assert_eq!(stored_rows(&path), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_no_values_waits_for_nothing() {
    let (_dir, _, store) = new_store(AN_HOUR);
    // A row whose optional features are all unset has no values.
    let ticket = store
        .write_behind(&mut [row("u1", 10, Vec::new())])
        .await
        .expect("accepted");
    assert!(durable(&store, ticket), "nothing to write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_nothing_to_write_waits_for_the_batches_accepted_before() {
    let (_dir, _, store) = new_store(AN_HOUR);
    let earlier = store
        .write_behind(&mut [row("u1", 10, vec![("color", text("red"))])])
        .await
        .expect("accepted");
    for mut nothing in [Vec::new(), vec![row("u2", 10, Vec::new())]] {
        let ticket = store.write_behind(&mut nothing).await.expect("accepted");
        assert!(
            !durable(&store, ticket),
            "u1 is not written yet ({} rows)",
            nothing.len()
        );
    }
    let after = store.write_behind(&mut []).await.expect("accepted");
    store.flush().await.expect("flushed");
    assert!(durable(&store, earlier) && durable(&store, after));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_flush_that_fails_is_retried_by_the_store_itself() {
    let (_dir, path, store) = new_store(Duration::from_millis(50));
    let mut mark = store.durable_mark().expect("writes behind");
    let other = rusqlite::Connection::open(&path).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("locked");
    let ticket = store
        .write_behind(&mut [row("u1", 10, vec![("color", text("red"))])])
        .await
        .expect("accepted");
    // The mark's watchers are told when the timed flush takes the buffer, then when it fails
    // (after the store's 5 s busy timeout).
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(30), mark.changed())
            .await
            .expect("told within 30 s")
            .expect("the store lives");
    }
    assert!(!ticket.is_durable_at(*mark.borrow()), "the flush failed");
    other.execute_batch("ROLLBACK").expect("unlocked");
    // Nothing but the store's own retry writes it now.
    written_within(&mut mark, ticket, Duration::from_secs(60)).await;
    assert_eq!(stored_rows(&path), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_says_the_same_before_and_after_the_write() {
    let (_dir, _, store) = new_store(AN_HOUR);
    // A list's items go through JSON in the file: a timestamp in it reads back as its text.
    let list = FeatureValue::List(vec![
        FeatureValue::Timestamp(Timestamp::from_millis(1_764_403_380_000)),
        FeatureValue::Float(1.5),
        FeatureValue::String("x".to_owned()),
    ]);
    let json = FeatureValue::Json(json!({"a": [1, 2.5, null, {"b": true}]}));
    store
        .write_behind(&mut [row("u1", 10, vec![("list", list), ("doc", json)])])
        .await
        .expect("accepted");
    let before = store.entity("user", "u1").await.expect("read");
    store.flush().await.expect("written");
    let after = store.entity("user", "u1").await.expect("read");
    assert_eq!(before, after);
}

/// A durable write makes the batches accepted before it durable too: the runtime commits the
/// offsets of a batch it wrote this way (after `write_behind` found the store unavailable),
/// and batches still in the buffer may hold the rows of messages before them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_write_makes_the_batches_accepted_before_it_durable() {
    let (_dir, path, store) = new_store(AN_HOUR);
    let mut accepted = vec![row("u1", 10, vec![("color", text("red"))])];
    let ticket = store.write_behind(&mut accepted).await.expect("accepted");
    assert!(!durable(&store, ticket), "not written yet");
    store
        .write(&[row("u2", 10, vec![("color", text("blue"))])])
        .await
        .expect("written");
    assert!(durable(&store, ticket), "written before the durable write");
    assert_eq!(stored_rows(&path), 2);
}
