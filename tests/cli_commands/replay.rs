//! `dlq replay`: dead letters sent back to their source topic once, with their headers.

use chalk_streams::dlq;
use chalk_streams::testing::Record;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::*;

mod partitions;
mod refused;
mod while_failing;

/// Everything on `topic` (its `partitions` partitions), read to the end of each partition.
async fn read_to_end(kafka: &MockKafka, topic: &str, partitions: i32) -> Vec<OwnedMessage> {
    let servers = kafka.bootstrap_servers().to_owned();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &servers)
            .set("group.id", "cli-commands-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()
            .expect("consumer created");
        {
            let mut all = TopicPartitionList::new();
            for partition in 0..partitions {
                all.add_partition_offset(&topic, partition, Offset::Beginning)
                    .expect("partition added");
            }
            consumer.assign(&all).expect("partitions assigned");
        }
        let deadline = Instant::now() + COMMAND_BOUND;
        let mut at_end = std::collections::BTreeSet::new();
        let mut messages = Vec::new();
        while at_end.len() < usize::try_from(partitions).expect("partitions") {
            assert!(Instant::now() < deadline, "`{topic}` not read to its end");
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    at_end.remove(&message.partition());
                    messages.push(message.detach());
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    at_end.insert(partition);
                }
                Some(Err(error)) => panic!("reading `{topic}`: {error}"),
                None => {}
            }
        }
        drop(consumer);
        messages
    })
    .await
    .expect("reader thread")
}

/// The Kafka timestamp of every original message in these letters (November 2023).
const ORIGINAL_TIME: i64 = 1_700_000_000_000;

/// A dead letter as the runtime writes it: the original headers, then the `chalk.*` envelope.
fn letter(stream: &str, source_offset: i64, original: &Record) -> Record {
    letter_from(stream, 0, source_offset, original)
}

/// A dead letter of a message read from `source_partition` of its topic.
fn letter_from(
    stream: &str,
    source_partition: i32,
    source_offset: i64,
    original: &Record,
) -> Record {
    let mut letter = Record {
        topic: "orders_dlq".to_owned(),
        ..original.clone()
    };
    letter.partition = None;
    let envelope = [
        (dlq::HEADER_STREAM, stream.to_owned()),
        (dlq::HEADER_PHASE, "resolver".to_owned()),
        (dlq::HEADER_ERROR, "the resolver failed".to_owned()),
        (dlq::HEADER_SOURCE_TOPIC, original.topic.clone()),
        (dlq::HEADER_SOURCE_PARTITION, source_partition.to_string()),
        (dlq::HEADER_SOURCE_OFFSET, source_offset.to_string()),
        (dlq::HEADER_SOURCE_TIMESTAMP, ORIGINAL_TIME.to_string()),
    ];
    for (name, value) in envelope {
        letter = letter.header(name, value);
    }
    letter
}

/// Letters of stream `orders` on `orders_dlq` (one partition), one per id in order: each
/// original is `{"id": ID}` keyed `ID` with a header `h=ID`, at source offsets 1, 2, ...
async fn produce_letters(kafka: &MockKafka, ids: &[&str]) {
    for (offset, id) in (1..).zip(ids) {
        let original = Record::bytes("orders", format!(r#"{{"id": "{id}"}}"#))
            .key(*id)
            .header("h", *id);
        kafka
            .produce(&letter("orders", offset, &original))
            .await
            .expect("letter produced");
    }
}

/// Produces `letters` to partition 0 of their topic, in order.
async fn produce_on_partition_0(kafka: &MockKafka, letters: &[Record]) {
    for letter in letters {
        kafka
            .produce(&letter.clone().partition(0))
            .await
            .expect("letter produced");
    }
}

/// The keys of everything on `orders` (one partition), in order.
async fn keys_sent(kafka: &MockKafka) -> Vec<String> {
    keys_and_payloads(&read_to_end(kafka, "orders", 1).await)
        .into_iter()
        .map(|(key, _)| key.unwrap_or_default())
        .collect()
}

/// `dlq replay` of the orders example, on `kafka`.
fn replay(kafka: &MockKafka, extra: &[&str]) -> Finished {
    let out = run(example("orders_dlq")
        .args(["dlq", "replay", "--stream", "orders"])
        .args(extra)
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    out.assert_success();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_sends_each_letter_back_once_with_its_original_headers() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 2);
    let first = Record::bytes("orders", r#"{"id": "o1", "quantity": -1}"#)
        .key("o1")
        .header("trace-id", "t-1")
        .header("origin", "web");
    let second = Record::bytes("orders", "not json");
    let other = Record::bytes("orders", r#"{"id": "o9", "quantity": 1}"#).key("o9");
    let dropped = Record {
        payload: None,
        ..Record::bytes("orders", "").key("o7")
    };
    // Its envelope names a topic the stream does not read: sending it there would feed
    // another application.
    let elsewhere = Record::bytes("payments", r#"{"id": "p1"}"#).key("p1");
    let letters = [
        letter("orders", 11, &first),
        letter("some_other_stream", 12, &other),
        letter("orders", 13, &second),
        letter("orders", 14, &dropped).header(dlq::HEADER_PAYLOAD_DROPPED, "true"),
        letter("orders", 15, &elsewhere),
    ];
    produce_on_partition_0(&kafka, &letters).await;

    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        [
            "replayed 2 letters of stream `orders` from `orders_dlq` (orders: 2)",
            "skipped 1 letter whose payload was dropped; the originals are in their source topics:",
            "  orders partition 0 offset 14",
            "skipped 1 letter whose source topic is not one of the stream's; it stays in `orders_dlq`:",
            "  from `payments`: partition 0 offset 4",
            "left 1 letter of other streams alone",
            "the replay's group `chalk/orders/dlq-replay` is past the letters skipped: a later replay reads them again only once the group's offsets are reset",
        ]
    );
    let replayed = read_to_end(&kafka, "orders", 2).await;
    // Each goes back with its original time, so that it cannot pass for newer than it is.
    for message in &replayed {
        assert_eq!(
            message.timestamp(),
            rdkafka::Timestamp::CreateTime(ORIGINAL_TIME),
            "{:?}",
            message.key()
        );
    }
    let mut sent = keys_and_payloads(&replayed);
    sent.sort();
    assert_eq!(
        sent,
        [
            (None, "not json".to_owned()),
            (
                Some("o1".to_owned()),
                r#"{"id": "o1", "quantity": -1}"#.to_owned()
            ),
        ]
    );
    for message in &replayed {
        let expected: Vec<(String, String)> = if message.key().is_some() {
            vec![
                ("trace-id".to_owned(), "t-1".to_owned()),
                ("origin".to_owned(), "web".to_owned()),
            ]
        } else {
            Vec::new()
        };
        assert_eq!(headers(message), expected, "original headers, no envelope");
    }

    // The replay group committed past every letter: nothing is sent or reported again.
    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 0 letters of stream `orders` from `orders_dlq`"]
    );
    let after = read_to_end(&kafka, "orders", 2).await;
    assert_eq!(after.len(), 2, "{:?}", keys_and_payloads(&after));
}

/// An original header name that is not UTF-8 (the runtime keeps it byte for byte in the
/// letter): replayed as it was, where rdkafka's own accessors would panic on it. So is an
/// original header that has an envelope header's name, as a message that was itself a dead
/// letter has.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_keeps_every_original_header_byte_for_byte() {
    use rdkafka::producer::{FutureProducer, FutureRecord};

    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    let name = b"\xfftrace".as_slice();
    let headers = chalk_streams::testing::headers::with_names(&[
        (name, b"t-1"),
        (dlq::HEADER_ERROR.as_bytes(), b"upstream: timeout"),
        (dlq::HEADER_STREAM.as_bytes(), b"orders"),
        (dlq::HEADER_PHASE.as_bytes(), b"parse"),
        (dlq::HEADER_ERROR.as_bytes(), b"bad JSON"),
        (dlq::HEADER_SOURCE_TOPIC.as_bytes(), b"orders"),
        (dlq::HEADER_SOURCE_PARTITION.as_bytes(), b"0"),
        (dlq::HEADER_SOURCE_OFFSET.as_bytes(), b"3"),
    ]);
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", kafka.bootstrap_servers())
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::<[u8], [u8]>::to("orders_dlq")
                .payload(b"not json".as_slice())
                .headers(headers),
            COMMAND_BOUND,
        )
        .await
        .map_err(|(error, _)| error)
        .expect("letter produced");

    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)"]
    );
    let replayed = read_to_end(&kafka, "orders", 1).await;
    let headers = replayed
        .first()
        .and_then(|message| message.headers())
        .map(|headers| chalk_streams::testing::headers::entries(headers.as_borrowed()));
    assert_eq!(
        headers,
        Some(vec![
            (name.to_vec(), Some(b"t-1".to_vec())),
            (
                dlq::HEADER_ERROR.as_bytes().to_vec(),
                Some(b"upstream: timeout".to_vec())
            ),
        ]),
        "the original headers only"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_dry_run_sends_nothing_and_limit_leaves_the_rest() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    produce_letters(&kafka, &["a", "b", "c"]).await;

    let out = replay(&kafka, &["--dry-run"]);
    assert_eq!(
        out.stdout_lines(),
        [
            r#"would send to `orders`: key=a timestamp=1700000000000 headers=[h=a] value={"id": "a"} (failed in resolver: the resolver failed)"#,
            r#"would send to `orders`: key=b timestamp=1700000000000 headers=[h=b] value={"id": "b"} (failed in resolver: the resolver failed)"#,
            r#"would send to `orders`: key=c timestamp=1700000000000 headers=[h=c] value={"id": "c"} (failed in resolver: the resolver failed)"#,
            "dry run: would replay 3 letters of stream `orders` from `orders_dlq` (orders: 3); \
             nothing sent or committed",
        ]
    );
    assert!(read_to_end(&kafka, "orders", 1).await.is_empty());

    let out = replay(&kafka, &["--limit", "1"]);
    assert_eq!(
        out.stdout_lines(),
        [
            "replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)",
            "stopped at --limit 1; later letters stay for the next replay",
        ]
    );
    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 2 letters of stream `orders` from `orders_dlq` (orders: 2)"]
    );
    assert_eq!(keys_sent(&kafka).await, ["a", "b", "c"]);
}

/// `--new-timestamps`: the replay's time instead of the original's, for messages that would
/// otherwise be older than the stream's late-arrival deadline.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_with_new_timestamps_gives_the_replays_time() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    produce_letters(&kafka, &["a"]).await;
    let before = chalk_streams::Timestamp::now().as_millis();
    let out = replay(&kafka, &["--new-timestamps"]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)"]
    );
    let sent = read_to_end(&kafka, "orders", 1).await;
    assert_eq!(sent.len(), 1);
    let time = sent[0].timestamp().to_millis().expect("a timestamp");
    assert!(
        time >= before,
        "{time} is not the replay's time (after {before})"
    );
}

/// An original stamped at the epoch (as some bridges and test tools write) goes back at most
/// 1 ms later, not at the replay's time, which librdkafka would give a timestamp of 0.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_keeps_an_original_time_of_zero_old() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    let original = Record::bytes("orders", r#"{"id": "a"}"#).key("a");
    let mut at_the_epoch = letter("orders", 1, &original);
    at_the_epoch
        .headers
        .retain(|(name, _)| name != dlq::HEADER_SOURCE_TIMESTAMP);
    let at_the_epoch = at_the_epoch.header(dlq::HEADER_SOURCE_TIMESTAMP, "0");
    produce_on_partition_0(&kafka, &[at_the_epoch]).await;
    replay(&kafka, &[]);
    let sent = read_to_end(&kafka, "orders", 1).await;
    assert_eq!(sent.len(), 1);
    let time = sent[0].timestamp().to_millis().expect("a timestamp");
    assert!(time <= 1, "{time} is not the original's time (0)");
}

#[test]
fn dlq_replay_needs_a_stream_with_a_dead_letter_topic() {
    let out = run(example("favorite_color")
        .args(["dlq", "replay", "--stream", FAVORITE_COLOR])
        .env("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr,
        format!(
            "error: stream `{FAVORITE_COLOR}` has no dead-letter topic; \
             set dead_letter_queue_topic on its source, or KAFKA_DEAD_LETTER_QUEUE_TOPIC\n"
        )
    );
}
