//! A store that is down, fails for a while, or refuses a row.

use chalk_streams::testing::FlakyStore;

use super::*;

static STORE_FAULTS: KafkaSource = KafkaSource::new()
    .topic("store_faults")
    .dead_letter_queue_topic("store_faults_dlq");

#[stream(source = STORE_FAULTS, name = "store_faults")]
fn store_faults(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_pauses_the_partition_and_commits_nothing_past_it() {
    let kafka = kafka_with_topics(&["store_faults", "store_faults_dlq"], 1);
    let store = Arc::new(FlakyStore::new());
    store.set_down(true);
    let records = order_records("store_faults", 0..20);
    kafka.produce_all(&records).await.expect("produce");
    let running = runtime_for(&kafka, &["store_faults"])
        .store(store.clone())
        .start()
        .await
        .expect("starts");
    let stats = running.stats("store_faults").expect("stream");
    let observed = chalk_streams::observe::ObservedStreams::from(&running);

    store.wait_for_failed_writes(3).await;
    assert_eq!(
        stats.snapshot().waiting_partitions,
        1,
        "the partition shows as waiting from its first failed write"
    );
    assert_eq!(observed.waiting(), ["store_faults"]);
    assert!(
        stats.stored_offsets().is_empty(),
        "nothing is handed to Kafka for commit while the store is down: {:?}",
        stats.stored_offsets()
    );
    assert_eq!(stats.snapshot().processed, 0);
    assert_eq!(
        stats.snapshot().failed,
        0,
        "an unavailable store is not a bad message"
    );

    store.set_down(false);
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed == 20).await;
    assert!(done, "{s:?}");
    assert_eq!(s.waiting_partitions, 0, "no longer waiting once written");
    assert!(observed.waiting().is_empty());
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        committed_total(&kafka, "chalk/store_faults", "store_faults", 1).await,
        20
    );
    assert_orders_stored(&*store, 0..20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failing_n_times_then_recovering_loses_nothing() {
    let kafka = kafka_with_topics(&["store_faults", "store_faults_dlq"], 1);
    let store = Arc::new(FlakyStore::new());
    store.fail_next(4);
    let records = order_records("store_faults", 0..50);
    kafka.produce_all(&records).await.expect("produce");
    let s = run_until_handled(&kafka, "store_faults", store.clone(), 50).await;
    assert_eq!(store.failed_writes(), 4);
    assert_eq!((s.processed, s.failed), (50, 0));
    assert_eq!(
        committed_total(&kafka, "chalk/store_faults", "store_faults", 1).await,
        50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_the_store_refuses_is_dead_lettered_in_phase_store() {
    let kafka = kafka_with_topics(&["store_faults", "store_faults_dlq"], 1);
    let store = Arc::new(FlakyStore::new());
    store.reject_rows(|row| row.primary_key == "o3");
    let records: Vec<Record> = order_records("store_faults", 0..6)
        .into_iter()
        .zip(0..)
        .map(|(record, i)| record.key(format!("o{i}")))
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let s = run_until_handled(&kafka, "store_faults", store.clone(), 6).await;
    assert_eq!((s.processed, s.failed, s.dead_lettered), (5, 1, 1));
    let letters = kafka
        .read("store_faults_dlq", 1, PATIENCE)
        .await
        .expect("read");
    assert_holds_exactly(&kafka, "store_faults_dlq", 1, &letters, 1).await;
    assert_eq!(letters[0].key(), Some(&b"o3"[..]));
    assert_eq!(header(&letters[0], dlq::HEADER_PHASE), Some("store"));
    assert_orders_stored(&*store, [0, 1, 2, 4, 5].into_iter()).await;
}

/// Valid orders `o{from}`..`o{to}`.
pub(super) fn order_records(topic: &str, ids: std::ops::Range<i32>) -> Vec<Record> {
    ids.map(|i| Record::json(topic, &json!({"id": format!("o{i}"), "quantity": 1})))
        .collect()
}

/// Asserts every order of `ids` is in the store.
async fn assert_orders_stored(store: &dyn FeatureStore, ids: impl Iterator<Item = i32>) {
    for i in ids {
        let order = store
            .entity("order_features", &format!("o{i}"))
            .await
            .expect("read");
        assert!(order.is_some(), "o{i} stored");
    }
}

/// A store whose writes panic (a bug in an application's store, say).
struct PanickingStore;

#[async_trait::async_trait]
impl FeatureStore for PanickingStore {
    async fn write(&self, _: &[chalk_streams::FeatureRow]) -> Result<(), StoreError> {
        panic!("the store panicked")
    }

    async fn entity(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Option<chalk_streams::store::Entity>, StoreError> {
        Ok(None)
    }

    async fn scan(&self) -> Result<Vec<chalk_streams::store::Entity>, StoreError> {
        Ok(Vec::new())
    }
}

/// A panic outside the resolver stops the partition's worker: that is loud (a stalled
/// partition, the stream not ready), and nothing is committed past the messages in hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_panics_stalls_its_partition_loudly_and_commits_nothing() {
    let kafka = kafka_with_topics(&["store_faults", "store_faults_dlq"], 1);
    kafka
        .produce_all(&order_records("store_faults", 0..5))
        .await
        .expect("produce");
    let running = runtime_for(&kafka, &["store_faults"])
        .store(Arc::new(PanickingStore))
        .start()
        .await
        .expect("starts");
    let observed = chalk_streams::observe::ObservedStreams::from(&running);
    assert!(observed.stalled().is_empty());
    let stats = running.stats("store_faults").expect("stream");
    let (s, done) = stats
        .wait_for(PATIENCE, |s| s.stalled_partitions == 1)
        .await;
    assert!(done, "the partition counts as stalled: {s:?}");
    assert_eq!((s.processed, s.failed, s.assigned_partitions), (0, 0, 1));
    assert_eq!(observed.stalled(), ["store_faults"], "not ready");
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        stats.snapshot().stalled_partitions,
        0,
        "a partition given up no longer counts"
    );
    assert_eq!(
        committed_total(&kafka, "chalk/store_faults", "store_faults", 1).await,
        0,
        "nothing committed past the messages the worker had in hand"
    );
}
