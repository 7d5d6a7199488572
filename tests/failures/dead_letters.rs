//! Bad input and resolver failures: dead-lettered with their envelope, or counted and skipped without a dead-letter topic.

use std::collections::BTreeMap;

use super::*;

static ORDERS: KafkaSource = KafkaSource::new()
    .topic("orders")
    .dead_letter_queue_topic("orders_dlq");

#[stream(source = ORDERS, name = "orders")]
fn orders(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
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
    assert_holds_exactly(&kafka, "orders_dlq", 2, &letters, corpus.len()).await;
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

// A header name that is not UTF-8 (rdkafka's accessors panic on one): the message is still
// dead-lettered, with its headers byte for byte, and the partition goes on past it.
on_both_brokers!(a_header_name_that_is_not_utf8_neither_stops_the_partition_nor_is_altered);
async fn a_header_name_that_is_not_utf8_neither_stops_the_partition_nor_is_altered(broker: Broker) {
    use rdkafka::producer::{FutureProducer, FutureRecord};

    let kafka = broker.with_topics(&["orders", "orders_dlq"], 1).await;
    let name = b"\xfftrace".as_slice();
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", kafka.bootstrap_servers())
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::<[u8], [u8]>::to("orders")
                .payload(b"not json".as_slice())
                .headers(chalk_streams::testing::headers::with_names(&[(
                    name, b"t1",
                )])),
            PATIENCE,
        )
        .await
        .map_err(|(error, _)| error)
        .expect("produced");
    kafka
        .produce(&Record::json(
            "orders",
            &json!({"id": "after", "quantity": 1}),
        ))
        .await
        .expect("produced");

    let running = runtime_for(&kafka, &["orders"])
        .start()
        .await
        .expect("starts");
    let (s, done) = running
        .stats("orders")
        .expect("stream")
        .wait_for(PATIENCE, |s| s.handled() == 2)
        .await;
    assert!(done, "both messages handled: {s:?}");
    assert_eq!((s.processed, s.failed, s.dead_lettered), (1, 1, 1));
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        committed_total(&kafka, "chalk/orders", "orders", 1).await,
        2
    );

    let letters = kafka
        .read("orders_dlq", 1, PATIENCE)
        .await
        .expect("read the dead-letter topic");
    let letter_headers = letters
        .first()
        .and_then(|letter| letter.headers())
        .expect("a letter with headers");
    assert_eq!(
        chalk_streams::testing::headers::names(letter_headers.as_borrowed()).first(),
        Some(&name.to_vec())
    );
}
