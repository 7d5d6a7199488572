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
    wait(&stats, "read", |s| s.processed == 2 && s.dead_lettered == 1).await;
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
    assert_eq!(
        metadata,
        [Some(format!(
            "chalk-streams/window-reads/1 3@{} dead=1@{} stopped",
            t0 + 5 * MINUTE,
            t0 + 2 * MINUTE
        ))],
        "the mark names the letter"
    );
    assert_eq!(held(&kafka, LETTERS).await, 1);

    // The restart reads all three again, the bad one with them.
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
    assert_eq!(held(&kafka, LETTERS).await, 1, "one letter, not two");
}
