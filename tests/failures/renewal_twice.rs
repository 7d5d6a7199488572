//! A partition whose workers are aborted in two rebalances in a row, both still running when
//! the partition comes back the second time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use suite::rebalance::{Gate, OtherMember};

use super::store_faults::order_records;

use super::*;

static SLOW_TWICE: KafkaSource = KafkaSource::new().topic("slow_twice");
static SLOW_CALLS: AtomicUsize = AtomicUsize::new(0);
static GATE: Gate = Gate::new();

/// Holds the `slow` order the first two times it is resolved, until the test releases it.
#[stream(source = SLOW_TWICE, name = "slow_twice")]
fn slow_twice(order: Order) -> Result<OrderFeatures, String> {
    if order.id == "slow" && SLOW_CALLS.fetch_add(1, Ordering::SeqCst) < 2 {
        GATE.hold();
    }
    order_features(order)
}

/// The first rebalance aborts the worker busy with the slow order; the next worker reads it
/// again and is busy too when the second rebalance aborts it. The third worker starts while
/// both still run, and must read the messages that come after they end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partition_given_back_while_two_aborted_workers_run_is_still_read() {
    let kafka = kafka_with_topics(&["slow_twice", "elsewhere"], 1);
    kafka
        .produce(&Record::json(
            "slow_twice",
            &json!({"id": "slow", "quantity": 1}),
        ))
        .await
        .expect("produce");
    let running = runtime_for(&kafka, &["slow_twice"])
        .drain_timeout(Duration::from_secs(1))
        .start()
        .await
        .expect("starts");
    let stats = running.stats("slow_twice").expect("stream");
    GATE.held("the first worker").await;

    // First rebalance: a member joins.
    let member = OtherMember::join(kafka.bootstrap_servers(), "chalk/slow_twice", "elsewhere");
    let (s, revoked) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 0)
        .await;
    assert!(revoked, "{s:?}");
    GATE.held("the second worker").await;

    // Second rebalance: the member leaves.
    member.leave();
    let (s, revoked) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 0)
        .await;
    assert!(revoked, "revoked again: {s:?}");
    let (s, back) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 1)
        .await;
    assert!(back, "{s:?}");
    GATE.release();

    kafka
        .produce_all(&order_records("slow_twice", 0..5))
        .await
        .expect("produce");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed >= 6).await;
    assert!(done, "the messages after both rebalances are read: {s:?}");
    running.shutdown().await.expect("clean shutdown");
}
