//! At least once: a run stopped with work in flight, then restarted, loses nothing.

use std::sync::Arc;
use std::time::Duration;

use chalk_streams::prelude::*;
use chalk_streams::store::{FeatureStore, MemoryStore};
use chalk_streams::testing::Record;
use serde_json::json;
use suite::{on_both_brokers, runtime_for, Broker, PATIENCE};

use crate::{Event, EventBody};

static RESTART_SOURCE: KafkaSource = KafkaSource::new().topic("restart_events");

/// Messages from this number on wait for the gate: the first run stops with work in flight.
const GATED_FROM: u64 = 2_000;
static GATE: suite::Gate = suite::Gate::new();

#[stream(source = RESTART_SOURCE, name = "restartable")]
async fn restartable(event: EventBody) -> Event {
    let number: u64 = event.id[1..].parse().expect("e<number>");
    if number >= GATED_FROM {
        GATE.pass().await;
    }
    Event {
        id: event.id,
        seen_always: Some(true),
        ..Default::default()
    }
}

on_both_brokers!(stopping_with_work_in_flight_and_restarting_loses_nothing);
async fn stopping_with_work_in_flight_and_restarting_loses_nothing(broker: Broker) {
    GATE.close();
    let kafka = broker.with_topics(&["restart_events"], 4).await;
    let total = 3_000_u64;
    let records: Vec<Record> = (0..total)
        .map(|i| {
            Record::json("restart_events", &json!({"id": format!("e{i}")}))
                .partition((i % 4) as i32)
        })
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let store = Arc::new(MemoryStore::new());

    let first = runtime_for(&kafka, &["restartable"])
        .store(store.clone())
        .drain_timeout(Duration::from_millis(500))
        .start()
        .await
        .expect("first run starts");
    let stats = first.stats("restartable").expect("stream");
    tokio::time::timeout(PATIENCE, GATE.reached())
        .await
        .expect("a resolver is blocked mid-batch");
    first
        .shutdown()
        .await
        .expect("shutdown within its deadline");
    let handled_first = stats.snapshot().handled();
    assert!(handled_first < total, "the first run stopped mid-stream");

    let committed: i64 = kafka
        .committed_offsets("chalk/restartable", "restart_events", 4)
        .await
        .expect("committed")
        .iter()
        .map(|o| o.unwrap_or(0))
        .sum();
    assert_eq!(
        u64::try_from(committed).expect("non-negative"),
        handled_first,
        "exactly the finished batches are committed; the blocked one is not"
    );

    GATE.open();
    let second = runtime_for(&kafka, &["restartable"])
        .store(store.clone())
        .start()
        .await
        .expect("second run starts");
    let stats = second.stats("restartable").expect("stream");
    let (s, done) = stats
        .wait_for(PATIENCE, |s| s.handled() + handled_first >= total)
        .await;
    assert!(done, "{s:?}");
    assert_eq!(
        s.handled(),
        total - handled_first,
        "the second run resumes at the committed offsets"
    );
    second.shutdown().await.expect("clean shutdown");

    for i in 0..total {
        assert!(
            store
                .entity("event", &format!("e{i}"))
                .await
                .expect("read")
                .is_some(),
            "e{i} was processed"
        );
    }
}
