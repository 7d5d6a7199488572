//! Partitions run in parallel, and each keeps its order.

use chalk_streams::prelude::*;
use chalk_streams::testing::Record;
use serde_json::json;
use suite::{on_both_brokers, runtime_for, Broker, PATIENCE};
use tokio::sync::Notify;

use crate::{Event, EventBody};

static ORDERED: KafkaSource = KafkaSource::new().topic("ordered_events");

/// Offsets seen per partition, in the order the resolver saw them.
static SEEN: std::sync::Mutex<Vec<(i32, i64)>> = std::sync::Mutex::new(Vec::new());
/// Opened once partition 1 has been processed; partition 0's first message waits for it.
static PARTITION_ONE_DONE: Notify = Notify::const_new();

#[stream(source = ORDERED, name = "ordered")]
async fn ordered(message: Message<EventBody>) -> Event {
    if message.partition == 0 && message.offset == 0 {
        // Finishes only if another partition makes progress meanwhile: partitions run in
        // parallel, not one after the other.
        PARTITION_ONE_DONE.notified().await;
    }
    SEEN.lock()
        .expect("lock")
        .push((message.partition, message.offset));
    if message.partition == 1 && message.offset == 49 {
        PARTITION_ONE_DONE.notify_one();
    }
    Event {
        id: message.value.id,
        seen_always: Some(true),
        ..Default::default()
    }
}

on_both_brokers!(partitions_run_in_parallel_and_each_keeps_its_order);
async fn partitions_run_in_parallel_and_each_keeps_its_order(broker: Broker) {
    SEEN.lock().expect("lock").clear();
    let kafka = broker.with_topics(&["ordered_events"], 2).await;
    let records: Vec<Record> = (0..100)
        .map(|i| Record::json("ordered_events", &json!({"id": format!("e{i}")})).partition(i % 2))
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let running = runtime_for(&kafka, &["ordered"])
        .start()
        .await
        .expect("starts");
    let (s, done) = running
        .stats("ordered")
        .expect("stream")
        .wait_for(PATIENCE, |s| s.processed == 100)
        .await;
    assert!(done, "{s:?}");
    running.shutdown().await.expect("clean shutdown");
    let seen = SEEN.lock().expect("lock").clone();
    for partition in 0..2 {
        let offsets: Vec<i64> = seen
            .iter()
            .filter(|(p, _)| *p == partition)
            .map(|(_, o)| *o)
            .collect();
        assert_eq!(
            offsets,
            (0..50).collect::<Vec<i64>>(),
            "partition {partition} in order"
        );
    }
    assert_eq!(
        seen[0],
        (1, 0),
        "partition 1 went ahead while partition 0 waited"
    );
}
