//! Two processes in one consumer group: one takes over when the other stops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chalk_streams::runtime::StreamStats;
use chalk_streams::testing::MockKafka;
use chalk_streams::RunningStreams;
use suite::rebalance::{Gate, OtherMember};
use suite::wait_until;

use super::store_faults::order_records;

use super::*;

static SHARED_GROUP: KafkaSource = KafkaSource::new().topic("shared_group");

#[stream(source = SHARED_GROUP, name = "shared_group")]
fn shared_group(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

on_both_brokers!(two_processes_share_a_group_and_one_takes_over_when_the_other_stops);
async fn two_processes_share_a_group_and_one_takes_over_when_the_other_stops(broker: Broker) {
    let kafka = broker.with_topics(&["shared_group"], 4).await;
    let store = Arc::new(MemoryStore::new());
    let a = runtime_for(&kafka, &["shared_group"])
        .store(store.clone())
        .start()
        .await
        .expect("a starts");
    let b = runtime_for(&kafka, &["shared_group"])
        .store(store.clone())
        .start()
        .await
        .expect("b starts");
    let stats_a = a.stats("shared_group").expect("stream");
    let stats_b = b.stats("shared_group").expect("stream");
    wait_until(&[&stats_a, &stats_b], || {
        let (a, b) = (stats_a.snapshot(), stats_b.snapshot());
        a.assigned_partitions > 0
            && b.assigned_partitions > 0
            && a.assigned_partitions + b.assigned_partitions == 4
    })
    .await;

    let first: Vec<Record> = (0..400)
        .map(|i| {
            Record::json(
                "shared_group",
                &json!({"id": format!("o{i}"), "quantity": 1}),
            )
            .partition(i % 4)
        })
        .collect();
    kafka.produce_all(&first).await.expect("produce");
    wait_until(&[&stats_a, &stats_b], || {
        stats_a.snapshot().processed + stats_b.snapshot().processed >= 400
    })
    .await;
    assert!(stats_a.snapshot().processed > 0 && stats_b.snapshot().processed > 0);

    a.shutdown().await.expect("a stops cleanly");
    let (s, done) = stats_b
        .wait_for(PATIENCE, |s| s.assigned_partitions == 4)
        .await;
    assert!(done, "b takes over every partition: {s:?}");
    let second: Vec<Record> = (400..800)
        .map(|i| {
            Record::json(
                "shared_group",
                &json!({"id": format!("o{i}"), "quantity": 1}),
            )
            .partition(i % 4)
        })
        .collect();
    kafka.produce_all(&second).await.expect("produce");
    let processed_by_a = stats_a.snapshot().processed;
    wait_until(&[&stats_b], || {
        let stored = stats_b.stored_offsets();
        (0..4).all(|p| stored.get(&("shared_group".to_owned(), p)) == Some(&200))
    })
    .await;
    assert_eq!(
        processed_by_a + stats_b.snapshot().processed,
        800,
        "after clean hand-overs no message is processed twice"
    );
    b.shutdown().await.expect("b stops cleanly");

    for i in 0..800 {
        assert!(
            store
                .entity("order_features", &format!("o{i}"))
                .await
                .expect("read")
                .is_some(),
            "o{i}"
        );
    }
    assert_eq!(
        committed_total(&kafka, "chalk/shared_group", "shared_group", 4).await,
        800
    );
}

static SLOW_ONCE: KafkaSource = KafkaSource::new().topic("slow_once");
static SLOWED: AtomicBool = AtomicBool::new(false);
static GATE: Gate = Gate::new();

#[stream(source = SLOW_ONCE, name = "slow_once")]
fn slow_once(order: Order) -> Result<OrderFeatures, String> {
    if order.id == "slow" && !SLOWED.swap(true, Ordering::SeqCst) {
        GATE.hold();
    }
    order_features(order)
}

/// A rebalance takes a partition whose worker is busy past the drain timeout (it is aborted)
/// and gives it back while that worker still runs. When the aborted worker ends, dropping its
/// handle on the partition's queue switches off the new worker's wake-up: the new worker must
/// still read the messages that come after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_given_back_while_its_aborted_worker_runs_is_still_read() {
    let (kafka, running) = start_on_a_slow_order("slow_once").await;
    let stats = running.stats("slow_once").expect("stream");
    GATE.held("the slow message reached the resolver").await;

    // Another member of the group, reading another topic: the group rebalances, and the
    // partition comes back to the stream (revoked, then assigned again).
    let member = OtherMember::join(kafka.bootstrap_servers(), "chalk/slow_once", "elsewhere");
    // Revoked (for at least the drain timeout), then assigned again, the aborted worker still
    // in its resolver.
    revoked_then_back(&stats).await;
    GATE.release();
    read_after_the_rebalances(&kafka, &stats, "slow_once").await;
    member.leave();
    running.shutdown().await.expect("clean shutdown");
}

/// A topic of one partition holding the order `slow`, and the stream of the same name started
/// on it with a drain timeout of one second (and a topic `elsewhere` for another member).
pub(super) async fn start_on_a_slow_order(topic: &str) -> (MockKafka, RunningStreams) {
    let kafka = kafka_with_topics(&[topic, "elsewhere"], 1);
    kafka
        .produce(&Record::json(topic, &json!({"id": "slow", "quantity": 1})))
        .await
        .expect("produce");
    let running = runtime_for(&kafka, &[topic])
        .drain_timeout(Duration::from_secs(1))
        .start()
        .await
        .expect("starts");
    (kafka, running)
}

/// Waits until the stream's partition is taken away, then given back.
pub(super) async fn revoked_then_back(stats: &StreamStats) {
    let (s, revoked) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 0)
        .await;
    assert!(revoked, "{s:?}");
    let (s, back) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 1)
        .await;
    assert!(back, "{s:?}");
}

/// Produces five more orders to `topic` and waits until the stream has read them (and the
/// slow one).
pub(super) async fn read_after_the_rebalances(
    kafka: &KafkaTestClient,
    stats: &StreamStats,
    topic: &str,
) {
    kafka
        .produce_all(&order_records(topic, 0..5))
        .await
        .expect("produce");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed >= 6).await;
    assert!(done, "the messages after the rebalances are read: {s:?}");
}
