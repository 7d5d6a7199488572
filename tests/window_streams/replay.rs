//! A replay longer than one batch: after a restart, a window that had ended fires once, on all
//! of its messages, rather than after each batch on part of them.

use std::sync::Mutex;

use chalk_streams::store::StoreError;

use super::*;

const TOPIC: &str = "long_replay";

static LONG_REPLAY: KafkaSource = KafkaSource::new()
    .topic(TOPIC)
    .late_arrival_deadline_str("30m");

#[stream(source = LONG_REPLAY, name = "failed_logins_long_replay", window = "10m")]
fn failed_logins_long_replay(attempts: Vec<Message<LoginAttempt>>) -> Option<UserLogins> {
    count_failures(&attempts)
}

/// A memory store that remembers every value written, in order, by user.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    written: Mutex<Vec<(String, FeatureValue)>>,
}

impl Recording {
    fn written(&self) -> Vec<(String, FeatureValue)> {
        self.written.lock().expect("lock").clone()
    }
}

#[async_trait::async_trait]
impl FeatureStore for Recording {
    async fn write(&self, rows: &[chalk_streams::FeatureRow]) -> Result<(), StoreError> {
        self.written
            .lock()
            .expect("lock")
            .extend(rows.iter().flat_map(|row| {
                row.values
                    .iter()
                    .map(|(_, value)| (row.primary_key.clone(), value.clone()))
            }));
        self.inner.write(rows).await
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        self.inner.entity(namespace, key).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        self.inner.scan().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_longer_than_a_batch_fires_each_ended_window_once_whole() {
    let t0 = start_of_hour();
    let kafka = Broker::mock().with_topics(&[TOPIC], 1).await;
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(t0 + 4 * MINUTE)));
    let store = Arc::new(Recording::default());
    let runtime = || {
        runtime_for(&kafka, &["failed_logins_long_replay"])
            .store(store.clone())
            .clock(clock.clone())
    };
    // Window [0,10) of frank: three attempts, then 1,100 of grace's, more than a batch.
    let mut records: Vec<Record> = (1..=3)
        .map(|minute| attempt(TOPIC, "frank", false, t0 + minute * MINUTE))
        .collect();
    records.extend((0..1_100).map(|_| attempt(TOPIC, "grace", false, t0 + 5 * MINUTE)));
    kafka.produce_all(&records).await.expect("produce");

    let running = runtime().start().await.expect("starts");
    let stats = running.stats("failed_logins_long_replay").expect("stream");
    wait(&stats, "all in their windows", |s| s.processed == 1_103).await;
    clock.set(Timestamp::from_millis(t0 + 12 * MINUTE));
    wait(&stats, "both windows fired", |s| s.windows_fired == 2).await;
    // A late attempt of frank's: his window fires again, with four.
    kafka
        .produce(&attempt(TOPIC, "frank", false, t0 + 6 * MINUTE))
        .await
        .expect("produce");
    wait(&stats, "frank's window fired again", |s| {
        s.windows_fired == 3
    })
    .await;
    running.shutdown().await.expect("clean shutdown");
    let before_restart = store.written().len();

    // The windows are kept (30 minutes after their end), so their messages are read again.
    clock.set(Timestamp::from_millis(t0 + 14 * MINUTE));
    let running = runtime().start().await.expect("starts");
    let stats = running.stats("failed_logins_long_replay").expect("stream");
    wait(&stats, "replayed and fired", |s| {
        s.processed == 1_104 && s.windows_fired >= 2
    })
    .await;
    running.shutdown().await.expect("clean shutdown");
    let replayed = store.written().split_off(before_restart);
    assert_eq!(
        replayed,
        [
            ("frank".to_owned(), FeatureValue::Int(4)),
            ("grace".to_owned(), FeatureValue::Int(1_100)),
        ],
        "each window fires once, on all its messages"
    );
}
