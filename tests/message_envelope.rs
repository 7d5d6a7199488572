//! What a resolver sees of each message: its key, offset, timestamp and headers, for every
//! message of a batch. The messages wait in the topic before the stream starts, so that the
//! worker takes many at once from the partition's queue.

use chalk_streams::prelude::*;
use chalk_streams::store::FeatureStoreExt;
use chalk_streams::testing::Record;
use serde::Deserialize;
use serde_json::json;
use suite::{on_both_brokers, runtime_for, Broker, PATIENCE};

#[derive(Features, Default, Debug, PartialEq)]
struct Seen {
    #[primary]
    id: String,
    key: Option<String>,
    offset: Option<i64>,
    timestamp: Option<Timestamp>,
    sequence_header: Option<String>,
    header_count: Option<i64>,
}

#[derive(Deserialize)]
struct Body {
    id: String,
}

static ENVELOPES: KafkaSource = KafkaSource::new().topic("envelopes");

#[stream(source = ENVELOPES)]
fn envelope(message: Message<Body>) -> Seen {
    Seen {
        key: message.key_str().map(str::to_owned),
        offset: Some(message.offset),
        timestamp: message.timestamp,
        sequence_header: message.headers.get_str("sequence").map(str::to_owned),
        header_count: Some(message.headers.len() as i64),
        id: message.value.id,
    }
}

/// Every seventh message has no key and no headers; the others have a key and two headers.
fn keyed(i: i64) -> bool {
    i % 7 != 0
}

on_both_brokers!(every_message_of_a_batch_reaches_the_resolver_with_its_own_envelope);
async fn every_message_of_a_batch_reaches_the_resolver_with_its_own_envelope(broker: Broker) {
    envelopes_arrive_whole(broker, &[]).await;
}

/// Under an incremental rebalance protocol the workers poll messages one by one: the same
/// envelopes arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_reaches_the_resolver_with_its_own_envelope_under_cooperative_rebalancing() {
    envelopes_arrive_whole(
        Broker::mock(),
        &[("partition.assignment.strategy", "cooperative-sticky")],
    )
    .await;
}

async fn envelopes_arrive_whole(broker: Broker, properties: &[(&str, &str)]) {
    let kafka = broker.with_topics(&["envelopes"], 1).await;
    let messages: i64 = 500;
    let first_time = Timestamp::now().as_millis() - 60_000;
    for i in 0..messages {
        let mut record = Record::json("envelopes", &json!({ "id": format!("m{i}") }))
            .timestamp(Timestamp::from_millis(first_time + i));
        if keyed(i) {
            record = record
                .key(format!("k{i}"))
                .header("sequence", i.to_string())
                .header(
                    "trace",
                    vec![0xff, 0x00, u8::try_from(i % 256).expect("byte")],
                );
        }
        kafka.produce(&record).await.expect("produce");
    }

    let running = properties
        .iter()
        .fold(
            runtime_for(&kafka, &["message_envelope::envelope"]),
            |runtime, &(name, value)| runtime.kafka_property(name, value),
        )
        .start()
        .await
        .expect("runtime starts");
    let stats = running
        .stats("message_envelope::envelope")
        .expect("stream runs");
    let total = u64::try_from(messages).expect("positive");
    let (snapshot, done) = stats.wait_for(PATIENCE, |s| s.processed == total).await;
    assert!(done, "every message processed: {snapshot:?}");
    assert_eq!(snapshot.failed, 0);

    let store = running.store();
    for i in 0..messages {
        let seen = store
            .get::<Seen>(format!("m{i}"))
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("m{i} stored"))
            .value;
        let expected = Seen {
            id: format!("m{i}"),
            key: keyed(i).then(|| format!("k{i}")),
            offset: Some(i),
            timestamp: Some(Timestamp::from_millis(first_time + i)),
            sequence_header: keyed(i).then(|| i.to_string()),
            header_count: Some(if keyed(i) { 2 } else { 0 }),
        };
        assert_eq!(seen, expected, "message {i}");
    }
    running.shutdown().await.expect("clean shutdown");
}
