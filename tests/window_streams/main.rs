//! Window streams on the mock cluster (and tansu), with a clock the test moves by hand: counting
//! (`counting`), restarts that end equal to an uninterrupted run (`restarts`), and faults on a
//! single partition (`single_partition`).

use std::sync::Arc;

use chalk_streams::prelude::*;
use chalk_streams::runtime::clock::ManualClock;
use chalk_streams::runtime::StreamStats;
use chalk_streams::store::{Entity, FeatureStore, MemoryStore};
use chalk_streams::testing::{FlakyStore, Record};
use chalk_streams::{FeatureValue, RunningStreams, Runtime};
use serde::Deserialize;
use serde_json::json;
use suite::{on_both_brokers, runtime_for, Broker, PATIENCE};

const MINUTE: i64 = 60_000;

#[derive(Deserialize)]
struct LoginAttempt {
    user: String,
    success: bool,
}

#[derive(Features, Default)]
struct UserLogins {
    #[primary]
    user: String,
    num_failed_logins: Option<i64>,
}

fn count_failures(attempts: &[Message<LoginAttempt>]) -> Option<UserLogins> {
    let user = attempts.first()?.value.user.clone();
    let failed = attempts.iter().filter(|a| !a.value.success).count();
    Some(UserLogins {
        user,
        num_failed_logins: Some(i64::try_from(failed).unwrap_or(i64::MAX)),
    })
}

static LOGINS: KafkaSource = KafkaSource::new()
    .topic("logins")
    .late_arrival_deadline_str("30m");

#[stream(source = LOGINS, name = "failed_logins", window = "10m")]
fn failed_logins(attempts: Vec<Message<LoginAttempt>>) -> Option<UserLogins> {
    count_failures(&attempts)
}

static LOGINS_FOREVER: KafkaSource = KafkaSource::new().topic("logins");

#[stream(source = LOGINS_FOREVER, name = "failed_logins_forever", window = "10m")]
fn failed_logins_forever(attempts: Vec<Message<LoginAttempt>>) -> Option<UserLogins> {
    count_failures(&attempts)
}

static MULTI: KafkaSource = KafkaSource::new()
    .topic("multi_logins")
    .late_arrival_deadline_str("2h");

#[stream(source = MULTI, name = "failed_logins_multi", window = ["10m", "1h"])]
async fn failed_logins_multi(attempts: Vec<LoginAttempt>) -> Option<UserLogins> {
    let user = attempts.first()?.user.clone();
    let failed = attempts.iter().filter(|a| !a.success).count();
    Some(UserLogins {
        user,
        num_failed_logins: Some(i64::try_from(failed).unwrap_or(i64::MAX)),
    })
}

/// A start time aligned to a whole hour, so windows of 10 minutes and 1 hour start with it.
fn start_of_hour() -> i64 {
    let now = Timestamp::now().as_millis();
    now - now.rem_euclid(60 * MINUTE) - 24 * 60 * MINUTE
}

fn attempt(topic: &str, user: &str, success: bool, at: i64) -> Record {
    Record::json(topic, &json!({"user": user, "success": success}))
        .key(user)
        .timestamp(Timestamp::from_millis(at))
}

async fn failed(store: &dyn FeatureStore, user: &str, feature: &str) -> Option<(i64, i64)> {
    let entity: Entity = store.entity("user_logins", user).await.expect("read")?;
    let stored = entity.features.get(feature)?;
    match stored.value {
        FeatureValue::Int(n) => Some((n, stored.time.as_millis())),
        ref other => panic!("{feature} is {other:?}"),
    }
}

struct Harness {
    kafka: Broker,
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
}

impl Harness {
    async fn new(broker: Broker, topic: &str, start: i64) -> Self {
        Self {
            kafka: broker.with_topics(&[topic], 2).await,
            clock: Arc::new(ManualClock::new(Timestamp::from_millis(start))),
            store: Arc::new(MemoryStore::new()),
        }
    }

    fn runtime(&self, streams: &[&str]) -> Runtime {
        runtime_for(&self.kafka, streams)
            .store(self.store.clone())
            .clock(self.clock.clone())
    }

    async fn start(&self, streams: &[&str]) -> RunningStreams {
        self.runtime(streams).start().await.expect("starts")
    }

    fn set_clock(&self, at: i64) {
        self.clock.set(Timestamp::from_millis(at));
    }
}

async fn wait(
    stats: &StreamStats,
    what: &str,
    done: impl FnMut(&chalk_streams::runtime::StatsSnapshot) -> bool,
) {
    let (s, ok) = stats.wait_for(PATIENCE, done).await;
    assert!(ok, "{what}: {s:?}");
}

mod counting;
mod dead_letters;
mod envelopes;
mod long_stop;
mod renewal;
mod replay;
mod restarts;
mod single_partition;
