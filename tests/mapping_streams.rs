//! Mapping streams end to end, each on the in-process mock cluster and on a real `tansu` broker:
//! the seed example, late arrivals, at-least-once restarts, and two streams on one topic.

use std::sync::Arc;
use std::time::Duration;

use chalk_streams::prelude::*;
use chalk_streams::registry::Registry;
use chalk_streams::store::{FeatureStore, MemoryStore};
use chalk_streams::testing::{KafkaTestClient, Record};
use chalk_streams::FeatureValue;
use serde::Deserialize;
use serde_json::json;
use suite::{on_both_brokers, runtime_for, user_color, Broker, PATIENCE};
use tokio::sync::Notify;

#[derive(Features, Default)]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<String>,
}

#[derive(Deserialize)]
struct UserUpdateBody {
    user_id: String,
    favorite_color: String,
}

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_favorite_color_updates");

#[stream(source = USER_UPDATES)]
fn favorite_color(message: Message<UserUpdateBody>) -> User {
    User {
        uid: message.value.user_id,
        favorite_color: Some(message.value.favorite_color),
    }
}

fn update(user: &str, color: &str) -> Record {
    Record::json(
        "user_favorite_color_updates",
        &json!({"user_id": user, "favorite_color": color}),
    )
    .key(user)
}

on_both_brokers!(seed_example_writes_favorite_colors_and_commits_every_offset);
async fn seed_example_writes_favorite_colors_and_commits_every_offset(broker: Broker) {
    let kafka = broker
        .with_topics(&["user_favorite_color_updates"], 4)
        .await;
    let users = 40;
    for i in 0..users {
        kafka
            .produce(&update(&format!("u{i}"), "red"))
            .await
            .expect("produce");
    }
    // A later update of u0 must win over the earlier one.
    kafka.produce(&update("u0", "blue")).await.expect("produce");

    let running = runtime_for(&kafka, &["mapping_streams::favorite_color"])
        .start()
        .await
        .expect("runtime starts");
    let stats = running
        .stats("mapping_streams::favorite_color")
        .expect("stream runs");
    let (snapshot, done) = stats.wait_for(PATIENCE, |s| s.processed == users + 1).await;
    assert!(done, "all messages processed: {snapshot:?}");
    assert_eq!(snapshot.failed, 0);
    assert_eq!(snapshot.rows_written, users + 1);

    let store = running.store();
    assert_eq!(
        user_color(&*store, "u0").await,
        Some(FeatureValue::String("blue".into()))
    );
    for i in 1..users {
        assert_eq!(
            user_color(&*store, &format!("u{i}")).await,
            Some(FeatureValue::String("red".into())),
            "u{i}"
        );
    }
    // Offsets are committed while the stream runs (every second), not only when it stops.
    let all = i64::try_from(users + 1).expect("small");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (total, committed) = favorite_color_committed(&kafka).await;
        if total == all {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "committed while running: {committed:?}"
        );
        // The broker cannot tell us when a commit lands: ask again shortly.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.shutdown().await.expect("clean shutdown");

    let (total, committed) = favorite_color_committed(&kafka).await;
    assert_eq!(
        total, all,
        "every message's offset is committed: {committed:?}"
    );
}

/// The `favorite_color` group's committed offsets in all, and per partition.
async fn favorite_color_committed(kafka: &KafkaTestClient) -> (i64, Vec<Option<i64>>) {
    let committed = kafka
        .committed_offsets(
            "chalk/mapping_streams::favorite_color",
            "user_favorite_color_updates",
            4,
        )
        .await
        .expect("committed offsets");
    (committed.iter().map(|o| o.unwrap_or(0)).sum(), committed)
}

static LATE_SOURCE: KafkaSource = KafkaSource::new()
    .topic("late_events")
    .late_arrival_deadline_str("1h");
static ALL_SOURCE: KafkaSource = KafkaSource::new().topic("late_events");

#[derive(Features, Default)]
struct Event {
    #[primary]
    id: String,
    seen_within_deadline: Option<bool>,
    seen_always: Option<bool>,
}

#[derive(Deserialize)]
struct EventBody {
    id: String,
}

#[stream(source = LATE_SOURCE)]
fn within_deadline(event: EventBody) -> Event {
    Event {
        id: event.id,
        seen_within_deadline: Some(true),
        ..Default::default()
    }
}

#[stream(source = ALL_SOURCE, name = "infinite_deadline")]
fn infinite_deadline(event: EventBody) -> Event {
    Event {
        id: event.id,
        seen_always: Some(true),
        ..Default::default()
    }
}

on_both_brokers!(late_messages_are_skipped_before_decoding_and_counted);
async fn late_messages_are_skipped_before_decoding_and_counted(broker: Broker) {
    let kafka = broker.with_topics(&["late_events"], 2).await;
    let now = Timestamp::now().as_millis();
    let minutes = |m: i64| Timestamp::from_millis(now - m * 60_000);
    let records = [
        ("fresh", minutes(0)),
        ("half_hour_old", minutes(30)),
        ("two_hours_old", minutes(120)),
        ("a_day_old", minutes(24 * 60)),
    ];
    for (id, ts) in records {
        kafka
            .produce(&Record::json("late_events", &json!({"id": id})).timestamp(ts))
            .await
            .expect("produce");
    }
    // Too late *and* not JSON: it must be skipped, not failed, proving the check runs first.
    kafka
        .produce(&Record::bytes("late_events", "not json").timestamp(minutes(90)))
        .await
        .expect("produce");

    let store = Arc::new(MemoryStore::new());
    let running = runtime_for(
        &kafka,
        &["mapping_streams::within_deadline", "infinite_deadline"],
    )
    .store(store.clone())
    .start()
    .await
    .expect("runtime starts");

    let bounded = running
        .stats("mapping_streams::within_deadline")
        .expect("stream");
    let (s, done) = bounded.wait_for(PATIENCE, |s| s.handled() == 5).await;
    assert!(done, "{s:?}");
    assert_eq!((s.processed, s.skipped_late, s.failed), (2, 3, 0));

    let unbounded = running.stats("infinite_deadline").expect("stream");
    let (s, done) = unbounded.wait_for(PATIENCE, |s| s.handled() == 5).await;
    assert!(done, "{s:?}");
    assert_eq!(
        (s.processed, s.skipped_late, s.failed),
        (4, 0, 1),
        "infinity skips nothing; the non-JSON one fails to parse"
    );
    running.shutdown().await.expect("clean shutdown");

    for (id, within) in [
        ("fresh", true),
        ("half_hour_old", true),
        ("two_hours_old", false),
        ("a_day_old", false),
    ] {
        let event = store
            .entity("event", id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(
            event.features.contains_key("seen_within_deadline"),
            within,
            "{id}"
        );
        assert!(event.features.contains_key("seen_always"), "{id}");
    }
}

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

static SHARED_TOPIC: KafkaSource = KafkaSource::new().topic("shared_topic");

#[derive(Features)]
struct Reading {
    #[primary]
    id: String,
    doubled: Option<i64>,
    tripled: Option<i64>,
}

#[derive(Deserialize)]
struct ReadingBody {
    id: String,
    value: i64,
}

#[stream(source = SHARED_TOPIC, name = "doubler")]
fn doubler(body: ReadingBody) -> Reading {
    Reading {
        id: body.id,
        doubled: Some(body.value * 2),
        tripled: None,
    }
}

#[stream(source = SHARED_TOPIC, name = "tripler")]
async fn tripler(body: ReadingBody) -> Reading {
    Reading {
        id: body.id,
        doubled: None,
        tripled: Some(body.value * 3),
    }
}

on_both_brokers!(two_streams_on_one_topic_each_see_every_message);
async fn two_streams_on_one_topic_each_see_every_message(broker: Broker) {
    let kafka = broker.with_topics(&["shared_topic"], 3).await;
    for i in 0..30 {
        kafka
            .produce(&Record::json(
                "shared_topic",
                &json!({"id": format!("r{i}"), "value": i}),
            ))
            .await
            .expect("produce");
    }
    let running = runtime_for(&kafka, &["doubler", "tripler"])
        .start()
        .await
        .expect("starts");
    for name in ["doubler", "tripler"] {
        let (s, done) = running
            .stats(name)
            .expect("stream")
            .wait_for(PATIENCE, |s| s.processed == 30)
            .await;
        assert!(done, "{name}: {s:?}");
    }
    let store = running.store();
    for i in 0..30_i64 {
        let reading = store
            .entity("reading", &format!("r{i}"))
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(reading.features["doubled"].value, FeatureValue::Int(2 * i));
        assert_eq!(reading.features["tripled"].value, FeatureValue::Int(3 * i));
    }
    running.shutdown().await.expect("clean shutdown");
    for group in ["chalk/doubler", "chalk/tripler"] {
        let committed: i64 = kafka
            .committed_offsets(group, "shared_topic", 3)
            .await
            .expect("committed")
            .iter()
            .map(|o| o.unwrap_or(0))
            .sum();
        assert_eq!(committed, 30, "group {group} committed its own offsets");
    }
}

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

#[test]
fn registry_finds_every_stream_of_this_crate_with_its_metadata() {
    let registry = Registry::collect().expect("streams registered");
    let names: Vec<&str> = registry.streams().iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "doubler",
            "infinite_deadline",
            "mapping_streams::favorite_color",
            "mapping_streams::within_deadline",
            "ordered",
            "restartable",
            "tripler",
        ]
    );
    let seed = registry
        .get("mapping_streams::favorite_color")
        .expect("registered");
    assert!(std::ptr::eq(seed.source(), &USER_UPDATES));
    assert_eq!(seed.function(), "mapping_streams::favorite_color");
    assert!(seed.location().starts_with("tests/mapping_streams.rs:"));
    let tripler = registry.get("tripler").expect("registered");
    assert_eq!(tripler.function(), "mapping_streams::tripler");
    assert!(matches!(
        tripler.resolver(),
        chalk_streams::resolver::Resolver::Async(_)
    ));
    assert_eq!(
        LATE_SOURCE
            .resolve(&|_| None, &Default::default())
            .err()
            .map(|e| e.len()),
        Some(1),
        "only the bootstrap server is missing without an override"
    );
}
