//! Nothing lost, nothing stuck: bad input to the dead-letter queue, resolver errors and panics,
//! a store that is down or refuses rows, broker faults, and two processes sharing a group.
//! Every test asserts on the store's contents and on committed offsets.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chalk_streams::dlq;
use chalk_streams::prelude::*;
use chalk_streams::store::{FeatureStore, MemoryStore};
use chalk_streams::testing::{FlakyStore, KafkaTestClient, Record};
use rdkafka::message::{Headers as _, Message as _, OwnedMessage};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use serde::Deserialize;
use serde_json::json;
use suite::{
    kafka_with_topics, on_both_brokers, run_until_handled, runtime_for, wait_until, Broker,
    PATIENCE,
};

#[derive(Deserialize)]
struct Order {
    id: String,
    quantity: u8,
    /// Free-form JSON: where a hostile payload can nest deeply.
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<serde_json::Value>,
}

#[derive(Features)]
struct OrderFeatures {
    #[primary]
    id: String,
    quantity: i64,
}

fn order_features(order: Order) -> Result<OrderFeatures, String> {
    match order.id.as_str() {
        "explode" => panic!("the resolver exploded"),
        "refuse" => Err("orders named `refuse` are refused".to_owned()),
        _ => Ok(OrderFeatures {
            id: order.id,
            quantity: i64::from(order.quantity),
        }),
    }
}

static ORDERS: KafkaSource = KafkaSource::new()
    .topic("orders")
    .dead_letter_queue_topic("orders_dlq");

#[stream(source = ORDERS, name = "orders")]
fn orders(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

fn header<'a>(message: &'a OwnedMessage, name: &str) -> Option<&'a str> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

async fn committed_total(
    kafka: &KafkaTestClient,
    group: &str,
    topic: &str,
    partitions: i32,
) -> i64 {
    kafka
        .committed_offsets(group, topic, partitions)
        .await
        .expect("committed offsets")
        .iter()
        .map(|o| o.unwrap_or(0))
        .sum()
}

/// A bad message: its payload (`None`: tombstone), the phase it must fail in, and a fragment of
/// the error text.
struct Bad {
    name: &'static str,
    payload: Option<Vec<u8>>,
    phase: &'static str,
    error: &'static str,
}

fn corpus() -> Vec<Bad> {
    // Valid fields, then free-form JSON nested 10,000 deep: refused, without a stack overflow.
    let nested = format!(
        r#"{{"id": "n", "quantity": 1, "metadata": {}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let mut huge = b"{\"id\": \"huge\", \"quantity\": 1, \"pad\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 1 << 20));
    let bad = |name, payload: Option<&[u8]>, phase, error| Bad {
        name,
        payload: payload.map(<[u8]>::to_vec),
        phase,
        error,
    };
    vec![
        bad(
            "malformed",
            Some(br#"{"id": "m", "#),
            "parse",
            "EOF while parsing",
        ),
        bad(
            "wrong_shape",
            Some(br#"{"id": 5}"#),
            "parse",
            "invalid type: integer `5`",
        ),
        bad("empty", Some(b""), "parse", "EOF while parsing"),
        bad(
            "null",
            None,
            "parse",
            "the message has no payload (null value)",
        ),
        bad(
            "not_utf8",
            Some(&[0xff, 0xfe, 0x00]),
            "parse",
            "invalid JSON for",
        ),
        Bad {
            name: "huge_and_truncated",
            payload: Some(huge),
            phase: "parse",
            error: "EOF while parsing a string",
        },
        bad(
            "out_of_range",
            Some(br#"{"id": "o", "quantity": 300}"#),
            "parse",
            "invalid value: integer `300`, expected u8",
        ),
        Bad {
            name: "deeply_nested",
            payload: Some(nested.into_bytes()),
            phase: "parse",
            error: "recursion limit exceeded",
        },
        bad(
            "resolver_err",
            Some(br#"{"id": "refuse", "quantity": 1}"#),
            "resolver",
            "orders named `refuse` are refused",
        ),
        bad(
            "resolver_panic",
            Some(br#"{"id": "explode", "quantity": 1}"#),
            "resolver",
            "resolver panicked: the resolver exploded",
        ),
    ]
}

on_both_brokers!(bad_input_lands_in_the_dead_letter_queue_with_its_envelope);
async fn bad_input_lands_in_the_dead_letter_queue_with_its_envelope(broker: Broker) {
    let kafka = broker.with_topics(&["orders", "orders_dlq"], 2).await;
    let corpus = corpus();
    let mut records = Vec::new();
    let mut expected_bad = BTreeMap::new();
    let mut goods = 0_u64;
    for (i, bad) in corpus.iter().enumerate() {
        for _ in 0..2 {
            let id = format!("good{goods}");
            records.push(
                Record::json("orders", &json!({"id": id, "quantity": 2}))
                    .key(id.as_str())
                    .partition((goods % 2) as i32),
            );
            goods += 1;
        }
        let mut record = match &bad.payload {
            Some(p) => Record::bytes("orders", p.clone()),
            None => Record::tombstone("orders"),
        };
        record = record
            .key(bad.name)
            .partition((i % 2) as i32)
            .header("trace", format!("trace-{}", bad.name))
            .timestamp(Timestamp::from_millis(1_700_000_000_000 + i as i64));
        records.push(record);
    }
    for record in &records {
        let (partition, offset) = kafka.produce(record).await.expect("produce");
        if let Some(key) = &record.key {
            if !key.starts_with(b"good") {
                expected_bad.insert(key.clone(), (partition, offset));
            }
        }
    }

    let running = runtime_for(&kafka, &["orders"])
        .start()
        .await
        .expect("starts");
    let stats = running.stats("orders").expect("stream");
    let bads = corpus.len() as u64;
    let (s, done) = stats
        .wait_for(PATIENCE, |s| s.handled() == goods + bads)
        .await;
    assert!(done, "{s:?}");
    assert_eq!(
        (s.processed, s.failed, s.dead_lettered),
        (goods, bads, bads)
    );
    let store = running.store();
    for i in 0..goods {
        let order = store
            .entity("order_features", &format!("good{i}"))
            .await
            .expect("read");
        assert!(order.is_some(), "good{i} stored");
    }
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        committed_total(&kafka, "chalk/orders", "orders", 2).await,
        (goods + bads) as i64,
        "offsets move past dead-lettered messages"
    );

    let letters = kafka
        .read("orders_dlq", corpus.len(), PATIENCE)
        .await
        .expect("read the dead-letter topic");
    assert_eq!(letters.len(), corpus.len());
    for bad in &corpus {
        let letter = letters
            .iter()
            .find(|m| m.key() == Some(bad.name.as_bytes()))
            .unwrap_or_else(|| panic!("{} dead-lettered", bad.name));
        let (partition, offset) = expected_bad[bad.name.as_bytes()];
        assert_eq!(
            letter.payload().map(<[u8]>::to_vec),
            bad.payload,
            "{}",
            bad.name
        );
        let trace = format!("trace-{}", bad.name);
        assert_eq!(
            header(letter, "trace"),
            Some(trace.as_str()),
            "original headers kept"
        );
        assert_eq!(header(letter, dlq::HEADER_STREAM), Some("orders"));
        assert_eq!(
            header(letter, dlq::HEADER_PHASE),
            Some(bad.phase),
            "{}",
            bad.name
        );
        let error = header(letter, dlq::HEADER_ERROR).unwrap_or_default();
        assert!(error.contains(bad.error), "{}: {error}", bad.name);
        assert_eq!(header(letter, dlq::HEADER_SOURCE_TOPIC), Some("orders"));
        assert_eq!(
            header(letter, dlq::HEADER_SOURCE_PARTITION),
            Some(partition.to_string().as_str())
        );
        assert_eq!(
            header(letter, dlq::HEADER_SOURCE_OFFSET),
            Some(offset.to_string().as_str())
        );
        assert!(header(letter, dlq::HEADER_SOURCE_TIMESTAMP)
            .is_some_and(|t| t.starts_with("17000000000")));
    }
}

static NO_DLQ: KafkaSource = KafkaSource::new().topic("orders_without_dlq");

#[stream(source = NO_DLQ, name = "orders_without_dlq")]
fn orders_without_dlq(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

on_both_brokers!(without_a_dead_letter_topic_failures_are_counted_and_skipped);
async fn without_a_dead_letter_topic_failures_are_counted_and_skipped(broker: Broker) {
    let kafka = broker.with_topics(&["orders_without_dlq"], 1).await;
    let payloads = [
        json!({"id": "a", "quantity": 1}),
        json!({"id": "explode", "quantity": 1}),
        json!({"id": "b", "quantity": 1}),
        json!({"id": "refuse", "quantity": 1}),
        json!({"id": "c", "quantity": 1}),
    ];
    let records: Vec<Record> = payloads
        .iter()
        .map(|p| Record::json("orders_without_dlq", p))
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let store = Arc::new(MemoryStore::new());
    let s = run_until_handled(&kafka, "orders_without_dlq", store, 5).await;
    assert_eq!((s.processed, s.failed, s.dead_lettered), (3, 2, 0));
    assert_eq!(
        committed_total(&kafka, "chalk/orders_without_dlq", "orders_without_dlq", 1).await,
        5
    );
}

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

    store.wait_for_failed_writes(3).await;
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
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].key(), Some(&b"o3"[..]));
    assert_eq!(header(&letters[0], dlq::HEADER_PHASE), Some("store"));
    assert_orders_stored(&*store, [0, 1, 2, 4, 5].into_iter()).await;
}

static FAULTY_BROKER: KafkaSource = KafkaSource::new()
    .topic("faulty_broker")
    .dead_letter_queue_topic("faulty_broker_dlq");

#[stream(source = FAULTY_BROKER, name = "faulty_broker")]
fn faulty_broker(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

/// Valid orders `o{from}`..`o{to}`.
fn order_records(topic: &str, ids: std::ops::Range<i32>) -> Vec<Record> {
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

fn orders_batch(topic: &str, from: u64, to: u64) -> Vec<Record> {
    (from..to)
        .map(|i| {
            let id = if i % 10 == 9 {
                "refuse".to_owned()
            } else {
                format!("o{i}")
            };
            Record::json(topic, &json!({"id": id, "quantity": 1})).key(format!("k{i}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_and_injected_request_errors_lose_and_skip_nothing() {
    let kafka = kafka_with_topics(&["faulty_broker", "faulty_broker_dlq"], 3);
    kafka
        .produce_all(&orders_batch("faulty_broker", 0, 100))
        .await
        .expect("produce");
    let running = runtime_for(&kafka, &["faulty_broker"])
        .start()
        .await
        .expect("starts");
    let stats = running.stats("faulty_broker").expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 100).await;
    assert!(done, "{s:?}");

    // The broker goes away for two seconds while more messages are on their way.
    kafka
        .cluster()
        .expect("cluster")
        .broker_down(-1)
        .expect("broker down");
    let batch = orders_batch("faulty_broker", 100, 200);
    let more = kafka.produce_all(&batch);
    let outage = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        kafka
            .cluster()
            .expect("cluster")
            .broker_up(-1)
            .expect("broker up");
    };
    let (produced, ()) = tokio::join!(more, outage);
    produced.expect("produce after the outage");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 200).await;
    assert!(done, "after the outage: {s:?}");

    // Transient errors on fetch, offset commit and the dead-letter producer.
    {
        let cluster = kafka.cluster().expect("cluster");
        let transient = [
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__TRANSPORT,
        ];
        cluster.request_errors(RDKafkaApiKey::Fetch, &transient);
        cluster.request_errors(RDKafkaApiKey::OffsetCommit, &transient);
        cluster.request_errors(RDKafkaApiKey::Produce, &transient);
    }
    kafka
        .produce_all(&orders_batch("faulty_broker", 200, 300))
        .await
        .expect("produce");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 300).await;
    assert!(done, "after request errors: {s:?}");
    assert_eq!((s.processed, s.failed, s.dead_lettered), (270, 30, 30));
    let store = running.store();
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        committed_total(&kafka, "chalk/faulty_broker", "faulty_broker", 3).await,
        300
    );
    for i in (0..300).filter(|i| i % 10 != 9) {
        assert!(store
            .entity("order_features", &format!("o{i}"))
            .await
            .expect("read")
            .is_some());
    }
    let letters = kafka
        .read("faulty_broker_dlq", 30, PATIENCE)
        .await
        .expect("read");
    assert_eq!(
        letters.len(),
        30,
        "every failure dead-lettered once the broker answered"
    );
}

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
