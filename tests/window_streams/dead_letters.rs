//! A window stream's failed messages and restarts: the replay of a kept window reads a failed
//! message again, and its letter is not written twice.

use rdkafka::consumer::{BaseConsumer, Consumer as _};

use super::*;

const TOPIC: &str = "logins_replayed";
const LETTERS: &str = "logins_replayed_letters";

static WITH_LETTERS: KafkaSource = KafkaSource::new()
    .topic(TOPIC)
    .dead_letter_queue_topic(LETTERS)
    .late_arrival_deadline_str("30m");

#[stream(source = WITH_LETTERS, name = "failed_logins_with_letters", window = "10m")]
fn failed_logins_with_letters(attempts: Vec<Message<LoginAttempt>>) -> Option<UserLogins> {
    count_failures(&attempts)
}

const TOPIC_WITHOUT: &str = "logins_replayed_without_letters";

static WITHOUT_LETTERS: KafkaSource = KafkaSource::new()
    .topic(TOPIC_WITHOUT)
    .late_arrival_deadline_str("30m");

#[stream(source = WITHOUT_LETTERS, name = "failed_logins_without_letters", window = "10m")]
fn failed_logins_without_letters(attempts: Vec<Message<LoginAttempt>>) -> Option<UserLogins> {
    count_failures(&attempts)
}

/// How many messages `topic` (one partition, new) holds: its end offset.
async fn held(kafka: &Broker, topic: &str) -> i64 {
    let (bootstrap, topic) = (kafka.bootstrap_servers().to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .expect("a client");
        let (low, high) = consumer
            .fetch_watermarks(&topic, 0, PATIENCE)
            .expect("watermarks");
        high - low
    })
    .await
    .expect("joined")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_message_replayed_after_a_restart_is_not_dead_lettered_again() {
    let t0 = start_of_hour();
    let kafka = Broker::mock().with_topics(&[TOPIC, LETTERS], 1).await;
    kafka
        .produce_all(&[
            attempt(TOPIC, "erin", false, t0 + MINUTE),
            Record::bytes(TOPIC, "not json").timestamp(Timestamp::from_millis(t0 + 2 * MINUTE)),
            attempt(TOPIC, "erin", false, t0 + 3 * MINUTE),
            // More than the hour's lead ahead of the clock: refused, as bad input is.
            attempt(TOPIC, "erin", false, t0 + 3 * MINUTE + 2 * 60 * MINUTE),
        ])
        .await
        .expect("produce");
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(t0 + 5 * MINUTE)));
    let store = Arc::new(MemoryStore::new());
    let start = || {
        runtime_for(&kafka, &["failed_logins_with_letters"])
            .clock(clock.clone())
            .store(store.clone())
            .start()
    };

    // Erin's window has not ended: it keeps the commit at its first message.
    let running = start().await.expect("starts");
    let stats = running.stats("failed_logins_with_letters").expect("stream");
    wait(&stats, "read", |s| s.processed == 2 && s.dead_lettered == 2).await;
    running.shutdown().await.expect("clean shutdown");
    let committed = kafka
        .committed_offsets("chalk/failed_logins_with_letters", TOPIC, 1)
        .await
        .expect("committed");
    assert_eq!(committed, [Some(0)], "held at the window's first message");
    let metadata = kafka
        .committed_metadata("chalk/failed_logins_with_letters", TOPIC, 1)
        .await
        .expect("committed");
    // By offset, timestamp and a hash of key and payload.
    let named = format!(
        "chalk-streams/window-reads/1 4@{} dead=1@{}#",
        t0 + 5 * MINUTE,
        t0 + 2 * MINUTE
    );
    let metadata = metadata[0].clone().expect("a mark");
    assert!(
        metadata.starts_with(&named) && metadata.ends_with(" stopped"),
        "the mark names the letter: {metadata}"
    );
    assert_eq!(held(&kafka, LETTERS).await, 2);

    // The restart reads all four again, the bad ones with them.
    let running = start().await.expect("starts");
    let stats = running.stats("failed_logins_with_letters").expect("stream");
    wait(&stats, "replayed", |s| s.processed == 2).await;
    clock.set(Timestamp::from_millis(t0 + 10 * MINUTE));
    wait(&stats, "fired", |s| s.windows_fired == 1).await;
    let s = stats.snapshot();
    assert_eq!(
        (s.failed, s.dead_lettered),
        (0, 0),
        "dead-lettered before the restart: {s:?}"
    );
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        failed(&*store, "erin", "num_failed_logins[10m]").await,
        Some((2, t0 + 10 * MINUTE))
    );
    assert_eq!(
        held(&kafka, LETTERS).await,
        2,
        "one letter each, not a second"
    );
}

/// Without a dead-letter topic a failed message is only logged: the mark names nothing, and a
/// replay fails (and logs) it again rather than pass it unseen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_dead_letter_topic_a_replayed_failure_fails_again() {
    let t0 = start_of_hour();
    let kafka = Broker::mock().with_topics(&[TOPIC_WITHOUT], 1).await;
    kafka
        .produce_all(&[
            attempt(TOPIC_WITHOUT, "erin", false, t0 + MINUTE),
            Record::bytes(TOPIC_WITHOUT, "not json")
                .timestamp(Timestamp::from_millis(t0 + 2 * MINUTE)),
        ])
        .await
        .expect("produce");
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(t0 + 5 * MINUTE)));
    let start = || {
        runtime_for(&kafka, &["failed_logins_without_letters"])
            .clock(clock.clone())
            .start()
    };
    for run in ["first", "after the restart"] {
        let running = start().await.expect("starts");
        let stats = running
            .stats("failed_logins_without_letters")
            .expect("stream");
        wait(&stats, run, |s| s.processed == 1 && s.failed == 1).await;
        assert_eq!(stats.snapshot().dead_lettered, 0);
        running.shutdown().await.expect("clean shutdown");
        let metadata = kafka
            .committed_metadata("chalk/failed_logins_without_letters", TOPIC_WITHOUT, 1)
            .await
            .expect("committed");
        let metadata = metadata[0].clone().expect("a mark");
        assert!(!metadata.contains("dead="), "nothing named: {metadata}");
    }
}

/// A dead-letter topic the stream's principal may not describe stops start-up, named as the
/// dead-letter topic (not as a topic the stream reads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_topic_the_stream_may_not_describe_is_named_at_start() {
    let kafka = Broker::mock().with_topics(&[TOPIC, LETTERS], 1).await;
    let Broker::Mock(mock) = &kafka else {
        unreachable!("a mock cluster")
    };
    mock.cluster()
        .expect("cluster")
        .topic_error(
            LETTERS,
            rdkafka::types::RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        )
        .expect("set");
    let Err(refused) = runtime_for(&kafka, &["failed_logins_with_letters"])
        .start()
        .await
    else {
        panic!("started");
    };
    assert!(
        refused.to_string().contains(&format!(
            "not authorized to describe dead-letter topic `{LETTERS}`"
        )),
        "{refused}"
    );
}
