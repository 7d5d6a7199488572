//! `dlq replay` when the brokers refuse a letter for good.

use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::*;

/// Answers the next produce requests, one letter each, with these errors in order.
fn answer_produce_requests(kafka: &MockKafka, errors: &[RDKafkaRespErr]) {
    kafka
        .cluster()
        .expect("cluster")
        .request_errors(RDKafkaApiKey::Produce, errors);
}

/// The dead-letter topic's fetches refused, as for a principal that may describe the topic but
/// not read it: the replay stalls, and says why (the client's error callback has it).
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_whose_fetches_are_refused_names_the_refusal() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    produce_letters(&kafka, &["a"]).await;
    kafka.cluster().expect("cluster").request_errors(
        RDKafkaApiKey::Fetch,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 1000],
    );
    let out = run(example("orders_dlq")
        .args(["dlq", "replay", "--stream", "orders", "--timeout", "2s"])
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("reading `orders_dlq` stalled for 2s: ")
            && out.stderr.contains("authorization failed"),
        "{}",
        out.stderr
    );
}

const ACCEPTED: RDKafkaRespErr = RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR;

/// A replay that fails part-way has already sent and committed letters: it says which before
/// the error, and the next replay starts at the letter that failed. A topic the replay may not
/// write stops it even with `--skip-failed`: every later letter would be refused too.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_that_fails_part_way_says_what_it_sent() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    produce_letters(&kafka, &["a", "b"]).await;
    // The first letter's produce request goes through, the second's is refused for good.
    answer_produce_requests(
        &kafka,
        &[
            ACCEPTED,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        ],
    );
    let out = run(example("orders_dlq")
        .args(["dlq", "replay", "--stream", "orders", "--skip-failed"])
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)"]
    );
    assert!(
        out.stderr.contains(
            "replaying `orders_dlq` partition 0 offset 1 to `orders` failed: \
             TopicAuthorizationFailed (Broker: Topic authorization failed)\n"
        ),
        "{}",
        out.stderr
    );

    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)"]
    );
    assert_eq!(keys_sent(&kafka).await, ["a", "b"]);
}

/// A letter refused for good stops the replay, whose error names `--skip-failed`. With it, the
/// letter is listed with its error and passed over; the letters after it are replayed, and the
/// next replay sends nothing again.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_skip_failed_lists_a_refused_letter_and_goes_on() {
    const INVALID: RDKafkaRespErr = RDKafkaRespErr::RD_KAFKA_RESP_ERR_INVALID_RECORD;
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    produce_letters(&kafka, &["a", "b", "c"]).await;
    answer_produce_requests(&kafka, &[ACCEPTED, INVALID]);
    let out = run(example("orders_dlq")
        .args(["dlq", "replay", "--stream", "orders"])
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "failed: InvalidRecord (Broker: Broker failed to validate record); \
             --skip-failed skips a letter the brokers refuse and goes on\n"
        ),
        "{}",
        out.stderr
    );

    answer_produce_requests(&kafka, &[INVALID]);
    let out = replay(&kafka, &["--skip-failed"]);
    assert_eq!(
        out.stdout_lines(),
        [
            "replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)",
            "skipped 1 letter that the brokers refused; it stays in `orders_dlq`:",
            "  to `orders`: partition 0 offset 1: \
             InvalidRecord (Broker: Broker failed to validate record)",
            "the replay's group `chalk/orders/dlq-replay` is past the letters skipped: a later \
             replay reads them again only once the group's offsets are reset",
        ]
    );
    assert_eq!(keys_sent(&kafka).await, ["a", "c"]);

    let out = replay(&kafka, &["--skip-failed"]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 0 letters of stream `orders` from `orders_dlq`"]
    );
    assert_eq!(keys_sent(&kafka).await, ["a", "c"]);
}

/// A topic that refuses the original's timestamp (its `message.timestamp.*` limits) would
/// refuse every letter as old: `--skip-failed` does not pass over it, and the error names
/// `--new-timestamps`, with which the letter goes through.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_of_a_refused_timestamp_names_new_timestamps() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    produce_letters(&kafka, &["a"]).await;
    answer_produce_requests(
        &kafka,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP],
    );
    let out = run(example("orders_dlq")
        .args(["dlq", "replay", "--stream", "orders", "--skip-failed"])
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("--new-timestamps sends the letters with the replay's time\n"),
        "{}",
        out.stderr
    );
    assert_eq!(keys_sent(&kafka).await, Vec::<String>::new());

    let out = replay(&kafka, &["--new-timestamps"]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)"]
    );
    assert_eq!(keys_sent(&kafka).await, ["a"]);
}
