//! A store that writes batches behind (SQLite): a partition's offsets are handed to Kafka for
//! commit only once the store has written the batches' rows, and a stopping stream has the
//! store write them first.

use std::time::Duration;

use chalk_streams::store::SqliteStore;

use chalk_streams::testing::{MockKafka, Record};
use suite::sqlite_file::stored_rows;

use super::store_faults::order_records;
use super::*;

static WRITE_BEHIND: KafkaSource = KafkaSource::new().topic("write_behind");

#[stream(source = WRITE_BEHIND, name = "write_behind")]
fn write_behind(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

static WRITE_BEHIND_DEEP: KafkaSource = KafkaSource::new()
    .topic("write_behind_deep")
    .dead_letter_queue_topic("write_behind_deep_dlq");

#[derive(Features)]
struct OrderMetadata {
    #[primary]
    id: String,
    metadata: serde_json::Value,
}

/// The order's metadata, two levels deeper: metadata as deep as a payload can hold (126 levels
/// inside the order's object) is then one level deeper than a stored value can be read back.
#[stream(source = WRITE_BEHIND_DEEP, name = "write_behind_deep")]
fn order_metadata(order: Order) -> OrderMetadata {
    OrderMetadata {
        id: order.id,
        metadata: json!([[order.metadata]]),
    }
}

const PARTITIONS: i32 = 2;
const ORDERS: i32 = 40;

/// Long enough that only a read, a flush or the stream's stop writes what was accepted.
const AN_HOUR: Duration = Duration::from_secs(3600);

/// The orders, produced on a new topic, and a store that writes what it accepted only when
/// read, flushed or stopped; the directory holds the store's file.
async fn orders_and_store() -> (MockKafka, tempfile::TempDir, Arc<SqliteStore>) {
    let kafka = kafka_with_topics(&["write_behind"], PARTITIONS);
    kafka
        .produce_all(&order_records("write_behind", 0..ORDERS))
        .await
        .expect("produce");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    let store = SqliteStore::open_with_flush_interval(path, AN_HOUR).expect("open");
    (kafka, dir, Arc::new(store))
}

fn stored_total(stats: &chalk_streams::runtime::StreamStats) -> i64 {
    stats.stored_offsets().values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_are_handed_over_for_commit_only_once_the_rows_are_written() {
    let (kafka, _dir, store) = orders_and_store().await;
    let running = runtime_for(&kafka, &["write_behind"])
        .store(store.clone())
        .start()
        .await
        .expect("starts");
    let stats = running.stats("write_behind").expect("stream");
    let (s, done) = stats
        .wait_for(PATIENCE, |s| s.processed == ORDERS as u64)
        .await;
    assert!(done, "{s:?}");
    assert!(
        stats.stored_offsets().is_empty(),
        "nothing is handed to Kafka for commit before the store writes the rows: {:?}",
        stats.stored_offsets()
    );
    assert_eq!(stored_rows(store.path()), 0, "accepted, not yet written");

    store.flush().await.expect("written");
    assert_eq!(stored_rows(store.path()), i64::from(ORDERS));
    suite::wait_until(&[&*stats], || stored_total(&stats) == i64::from(ORDERS)).await;
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        committed_total(&kafka, "chalk/write_behind", "write_behind", PARTITIONS).await,
        i64::from(ORDERS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_stream_has_the_store_write_what_it_accepted_and_commits_it() {
    let (kafka, _dir, store) = orders_and_store().await;
    let path = store.path().to_owned();
    run_until_handled(&kafka, "write_behind", store, ORDERS as u64).await;
    assert_eq!(stored_rows(&path), i64::from(ORDERS));
    assert_eq!(
        committed_total(&kafka, "chalk/write_behind", "write_behind", PARTITIONS).await,
        i64::from(ORDERS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_sqlite_would_refuse_is_dead_lettered_and_its_neighbours_written() {
    let kafka = kafka_with_topics(&["write_behind_deep", "write_behind_deep_dlq"], 1);
    let mut metadata = json!(1);
    for _ in 0..126 {
        metadata = json!([metadata]);
    }
    let records: Vec<Record> = (0..6)
        .map(|i| {
            let order = if i == 3 {
                json!({"id": "deep", "quantity": 1, "metadata": metadata})
            } else {
                json!({"id": format!("o{i}"), "quantity": 1})
            };
            Record::json("write_behind_deep", &order)
        })
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("features.sqlite");
    let store = Arc::new(SqliteStore::open_with_flush_interval(&path, AN_HOUR).expect("open"));
    let s = run_until_handled(&kafka, "write_behind_deep", store, 6).await;
    assert_eq!((s.processed, s.failed, s.dead_lettered), (5, 1, 1));
    let letters = kafka
        .read("write_behind_deep_dlq", 1, PATIENCE)
        .await
        .expect("read");
    assert_holds_exactly(&kafka, "write_behind_deep_dlq", 1, &letters, 1).await;
    assert_eq!(header(&letters[0], dlq::HEADER_PHASE), Some("store"));
    assert_eq!(stored_rows(&path), 5, "its neighbours are written");
    assert_eq!(
        committed_total(&kafka, "chalk/write_behind_deep", "write_behind_deep", 1).await,
        6
    );
}
