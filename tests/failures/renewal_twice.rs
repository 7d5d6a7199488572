//! A partition whose workers are aborted in two rebalances in a row, both still running when
//! the partition comes back the second time.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::store_faults::order_records;

use super::*;

static SLOW_TWICE: KafkaSource = KafkaSource::new().topic("slow_twice");
static SLOW_CALLS: AtomicUsize = AtomicUsize::new(0);
static SLEEPING: tokio::sync::Notify = tokio::sync::Notify::const_new();
/// Set by the test to let the slow resolvers return.
static RELEASED: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

/// Blocks on the `slow` order the first two times it is resolved, until the test releases it.
#[stream(source = SLOW_TWICE, name = "slow_twice")]
fn slow_twice(order: Order) -> Result<OrderFeatures, String> {
    if order.id == "slow" && SLOW_CALLS.fetch_add(1, Ordering::SeqCst) < 2 {
        SLEEPING.notify_one();
        let (released, changed) = &RELEASED;
        let guard = released.lock().unwrap_or_else(PoisonError::into_inner);
        let _released = changed
            .wait_timeout_while(guard, PATIENCE, |released| !*released)
            .unwrap_or_else(PoisonError::into_inner);
    }
    order_features(order)
}

/// Another member of the stream's group, reading another topic, until `leave` is set: its
/// joining and its leaving each make the group rebalance.
fn other_member(kafka: &KafkaTestClient, leave: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    use rdkafka::consumer::{BaseConsumer, Consumer};

    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka.bootstrap_servers())
        .set("group.id", "chalk/slow_twice")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .create()
        .expect("member");
    consumer.subscribe(&["elsewhere"]).expect("subscribed");
    std::thread::spawn(move || {
        while !leave.load(Ordering::SeqCst) {
            let _ = consumer.poll(Duration::from_millis(100));
        }
    })
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
    tokio::time::timeout(PATIENCE, SLEEPING.notified())
        .await
        .expect("the first worker is in the slow resolver");

    // First rebalance: a member joins.
    let leave = Arc::new(AtomicBool::new(false));
    let member = other_member(&kafka, Arc::clone(&leave));
    let (s, revoked) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 0)
        .await;
    assert!(revoked, "{s:?}");
    tokio::time::timeout(PATIENCE, SLEEPING.notified())
        .await
        .expect("the second worker is in the slow resolver");

    // Second rebalance: the member leaves.
    leave.store(true, Ordering::SeqCst);
    member.join().expect("member left");
    let (s, revoked) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 0)
        .await;
    assert!(revoked, "revoked again: {s:?}");
    let (s, back) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 1)
        .await;
    assert!(back, "{s:?}");
    *RELEASED.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
    RELEASED.1.notify_all();

    kafka
        .produce_all(&order_records("slow_twice", 0..5))
        .await
        .expect("produce");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed >= 6).await;
    assert!(done, "the messages after both rebalances are read: {s:?}");
    running.shutdown().await.expect("clean shutdown");
}
