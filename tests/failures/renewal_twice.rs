//! A partition whose workers are aborted in two rebalances in a row, both still running when
//! the partition comes back the second time.

use std::sync::atomic::{AtomicUsize, Ordering};

use suite::rebalance::{Gate, OtherMember};

use super::shared_group::{read_after_the_rebalances, revoked_then_back, start_on_a_slow_order};
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
    let (kafka, running) = start_on_a_slow_order("slow_twice").await;
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
    revoked_then_back(&stats).await;
    GATE.release();
    read_after_the_rebalances(&kafka, &stats, "slow_twice").await;
    running.shutdown().await.expect("clean shutdown");
}
