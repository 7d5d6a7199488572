//! Window streams on the mock cluster, with a clock the test moves by hand: exact counts, windows
//! that close while the stream is idle, late messages that correct a fired window, several sizes,
//! restarts that end equal to an uninterrupted run, and memory released after retention.

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

on_both_brokers!(counts_failed_logins_per_user_in_ten_minute_windows_even_when_idle);
async fn counts_failed_logins_per_user_in_ten_minute_windows_even_when_idle(broker: Broker) {
    let t0 = start_of_hour();
    let h = Harness::new(broker, "logins", t0 + 5 * MINUTE).await;
    let records = [
        attempt("logins", "alice", false, t0 + MINUTE),
        attempt("logins", "alice", false, t0 + 2 * MINUTE),
        attempt("logins", "alice", true, t0 + 3 * MINUTE),
        attempt("logins", "alice", false, t0 + 4 * MINUTE),
        attempt("logins", "bob", false, t0 + 2 * MINUTE),
        attempt("logins", "bob", false, t0 + 4 * MINUTE),
    ];
    h.kafka.produce_all(&records).await.expect("produce");
    let running = h.start(&["failed_logins"]).await;
    let stats = running.stats("failed_logins").expect("stream");
    wait(&stats, "all messages in windows", |s| s.processed == 6).await;
    assert_eq!(
        stats.snapshot().windows_fired,
        0,
        "nothing fires before the window ends"
    );
    assert_eq!(
        failed(&*h.store, "alice", "num_failed_logins[10m]").await,
        None
    );

    // Nothing more is produced: the windows close on the clock alone.
    h.set_clock(t0 + 10 * MINUTE);
    wait(&stats, "both windows fired", |s| s.windows_fired == 2).await;
    let end = t0 + 10 * MINUTE;
    assert_eq!(
        failed(&*h.store, "alice", "num_failed_logins[10m]").await,
        Some((3, end))
    );
    assert_eq!(
        failed(&*h.store, "bob", "num_failed_logins[10m]").await,
        Some((2, end))
    );

    // The next window of alice replaces the value, with the next window's end as feature time.
    h.kafka
        .produce(&attempt("logins", "alice", false, t0 + 12 * MINUTE))
        .await
        .expect("produce");
    wait(&stats, "in its window", |s| s.processed == 7).await;
    h.set_clock(t0 + 20 * MINUTE);
    wait(&stats, "fired", |s| s.windows_fired == 3).await;
    assert_eq!(
        failed(&*h.store, "alice", "num_failed_logins[10m]").await,
        Some((1, t0 + 20 * MINUTE))
    );
    running.shutdown().await.expect("clean shutdown");
}

on_both_brokers!(
    late_messages_correct_a_fired_window_within_the_deadline_and_are_skipped_beyond_it
);
async fn late_messages_correct_a_fired_window_within_the_deadline_and_are_skipped_beyond_it(
    broker: Broker,
) {
    let t0 = start_of_hour();
    let h = Harness::new(broker, "logins", t0 + 5 * MINUTE).await;
    h.kafka
        .produce_all(&[
            attempt("logins", "carol", false, t0 + MINUTE),
            attempt("logins", "carol", false, t0 + 2 * MINUTE),
        ])
        .await
        .expect("produce");
    let running = h.start(&["failed_logins", "failed_logins_forever"]).await;
    let bounded = running.stats("failed_logins").expect("stream");
    let forever = running.stats("failed_logins_forever").expect("stream");
    wait(&bounded, "ingested", |s| s.processed == 2).await;
    wait(&forever, "ingested", |s| s.processed == 2).await;
    h.set_clock(t0 + 10 * MINUTE);
    wait(&bounded, "fired", |s| s.windows_fired == 1).await;
    wait(&forever, "fired", |s| s.windows_fired == 1).await;
    let end = t0 + 10 * MINUTE;
    assert_eq!(
        failed(&*h.store, "carol", "num_failed_logins[10m]").await,
        Some((2, end))
    );

    // 10 minutes late, inside the 30-minute deadline: the window fires again, corrected.
    h.set_clock(t0 + 15 * MINUTE);
    h.kafka
        .produce(&attempt("logins", "carol", false, t0 + 5 * MINUTE))
        .await
        .expect("produce");
    wait(&bounded, "re-fired", |s| s.windows_fired == 2).await;
    wait(&forever, "re-fired", |s| s.windows_fired == 2).await;
    assert_eq!(
        failed(&*h.store, "carol", "num_failed_logins[10m]").await,
        Some((3, end)),
        "the corrected count replaces the old one, with the same feature time"
    );

    // 50 minutes late: beyond the deadline the bounded stream skips it; infinity never skips.
    h.set_clock(t0 + 55 * MINUTE);
    h.kafka
        .produce(&attempt("logins", "carol", false, t0 + 5 * MINUTE))
        .await
        .expect("produce");
    wait(&bounded, "skipped as late", |s| s.skipped_late == 1).await;
    wait(&forever, "re-fired again", |s| s.windows_fired == 3).await;
    assert_eq!(bounded.snapshot().windows_fired, 2);
    assert_eq!(forever.snapshot().skipped_late, 0);
    assert_eq!(
        failed(&*h.store, "carol", "num_failed_logins[10m]").await,
        Some((4, end)),
        "the infinite-deadline stream corrected the window again"
    );
    running.shutdown().await.expect("clean shutdown");
}

on_both_brokers!(several_window_sizes_from_one_resolver);
async fn several_window_sizes_from_one_resolver(broker: Broker) {
    let t0 = start_of_hour();
    let h = Harness::new(broker, "multi_logins", t0 + 5 * MINUTE).await;
    let records = [
        attempt("multi_logins", "dave", false, t0 + MINUTE),
        attempt("multi_logins", "dave", false, t0 + 2 * MINUTE),
        attempt("multi_logins", "dave", false, t0 + 15 * MINUTE),
        attempt("multi_logins", "dave", true, t0 + 25 * MINUTE),
        attempt("multi_logins", "dave", false, t0 + 35 * MINUTE),
    ];
    h.kafka.produce_all(&records).await.expect("produce");
    let running = h.start(&["failed_logins_multi"]).await;
    let stats = running.stats("failed_logins_multi").expect("stream");
    wait(&stats, "ingested", |s| s.processed == 5).await;
    h.set_clock(t0 + 60 * MINUTE);
    // Windows of 10m ending at 10, 20, 30 and 40 minutes, and one of 1h.
    wait(&stats, "fired", |s| s.windows_fired == 5).await;
    assert_eq!(
        failed(&*h.store, "dave", "num_failed_logins[10m]").await,
        Some((1, t0 + 40 * MINUTE)),
        "the newest 10-minute window"
    );
    assert_eq!(
        failed(&*h.store, "dave", "num_failed_logins[1h]").await,
        Some((4, t0 + 60 * MINUTE))
    );
    running.shutdown().await.expect("clean shutdown");
}

/// Runs a fixed scenario, restarting the runtime before the steps listed in `restart_before`
/// (all window state is in memory, so a restart loses it as a crash would). Returns the store's
/// final contents.
async fn scenario(broker: Broker, restart_before: &[usize]) -> Vec<Entity> {
    let topic = "replay";
    let t0 = start_of_hour();
    let h = Harness::new(broker, topic, t0).await;
    let group = "chalk/failed_logins_replay";
    // (clock in minutes when produced, user, success, event time in minutes)
    let steps: [(i64, &str, bool, i64); 8] = [
        (1, "erin", false, 1),
        (2, "frank", false, 2),
        (3, "erin", false, 3),
        (12, "erin", false, 11), // [0,10) fires when the clock passes 10
        (14, "frank", false, 6), // late: [0,10) of frank fires again
        (16, "erin", true, 15),
        (25, "erin", false, 24),
        // [0,10) is kept until 40: a restart here replays its messages, now older than the
        // 30-minute deadline; it is still frank's newest window, so the store shows a re-fire
        // with fewer messages.
        (35, "erin", false, 34),
    ];
    let mut running = h.start(&["failed_logins_replay"]).await;
    // Messages the current runtime must handle: replayed ones after a restart, then new ones.
    let mut to_handle = 0_u64;
    for (i, (clock, user, success, at)) in steps.iter().enumerate() {
        if restart_before.contains(&i) {
            running.shutdown().await.expect("clean shutdown");
            // Time passes while the stream is down: the replay happens at the step's clock.
            h.set_clock(t0 + clock * MINUTE);
            let committed: i64 = h
                .kafka
                .committed_offsets(group, topic, 2)
                .await
                .expect("committed")
                .iter()
                .map(|o| o.unwrap_or(0))
                .sum();
            to_handle = i as u64 - u64::try_from(committed).expect("non-negative");
            running = h.start(&["failed_logins_replay"]).await;
            let stats = running.stats("failed_logins_replay").expect("stream");
            wait(&stats, "replayed", |s| s.handled() == to_handle).await;
        }
        h.set_clock(t0 + clock * MINUTE);
        h.kafka
            .produce(&attempt(topic, user, *success, t0 + at * MINUTE))
            .await
            .expect("produce");
        to_handle += 1;
        let stats = running.stats("failed_logins_replay").expect("stream");
        wait(&stats, "step handled", |s| s.handled() == to_handle).await;
    }
    // Past every window's end and retention: everything pending fires, then is released.
    h.set_clock(t0 + 70 * MINUTE);
    let stats = running.stats("failed_logins_replay").expect("stream");
    wait(&stats, "all windows fired and released", |s| {
        s.windows_fired > 0 && s.windows_retained == 0
    })
    .await;
    running.shutdown().await.expect("clean shutdown");
    h.store.scan().await.expect("scan")
}

static REPLAY: KafkaSource = KafkaSource::new()
    .topic("replay")
    .late_arrival_deadline_str("30m");

#[stream(source = REPLAY, name = "failed_logins_replay", window = "10m")]
fn failed_logins_replay(attempts: Vec<Message<LoginAttempt>>) -> Option<UserLogins> {
    count_failures(&attempts)
}

on_both_brokers!(restarts_end_equal_to_an_uninterrupted_run);
async fn restarts_end_equal_to_an_uninterrupted_run(broker: Broker) {
    let uninterrupted = scenario(broker.another(), &[]).await;
    assert!(!uninterrupted.is_empty());
    let mid_window = scenario(broker.another(), &[3]).await;
    assert_eq!(mid_window, uninterrupted, "restart mid-window");
    let after_late_refire = scenario(broker.another(), &[5]).await;
    assert_eq!(
        after_late_refire, uninterrupted,
        "restart after a late re-fire"
    );
    let past_the_deadline = scenario(broker, &[7]).await;
    assert_eq!(
        past_the_deadline, uninterrupted,
        "restart once the first messages of a kept window are older than the deadline"
    );
}

static REJECTS: KafkaSource = KafkaSource::new()
    .topic(REJECTS_TOPIC)
    .late_arrival_deadline_str("30m");

#[stream(source = REJECTS, name = "failed_logins_rejects", window = "10m")]
fn failed_logins_rejects(attempts: Vec<Message<LoginAttempt>>) -> Option<UserLogins> {
    count_failures(&attempts)
}

/// `failed_logins_rejects`'s topic with one partition (so that windows due together fire in
/// the same tick), holding `records`, and a clock at five minutes past `t0`; then a runtime
/// for the stream on them.
async fn one_partition(t0: i64, records: &[Record]) -> (Broker, Arc<ManualClock>, Runtime) {
    let kafka = Broker::mock().with_topics(&[REJECTS_TOPIC], 1).await;
    kafka.produce_all(records).await.expect("produce");
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(t0 + 5 * MINUTE)));
    let runtime = runtime_for(&kafka, &["failed_logins_rejects"]).clock(clock.clone());
    (kafka, clock, runtime)
}

const REJECTS_TOPIC: &str = "window_rejects";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_output_the_store_refuses_costs_only_that_window() {
    let t0 = start_of_hour();
    let topic = REJECTS_TOPIC;
    let store = Arc::new(FlakyStore::new());
    store.reject_rows(|row| row.primary_key == "dave");
    let records = [
        attempt(topic, "erin", false, t0 + MINUTE),
        attempt(topic, "dave", false, t0 + 2 * MINUTE),
        attempt(topic, "frank", false, t0 + 3 * MINUTE),
    ];
    // The three windows fire in the same tick and are written together.
    let (_kafka, clock, runtime) = one_partition(t0, &records).await;
    let running = runtime.store(store.clone()).start().await.expect("starts");
    let stats = running.stats("failed_logins_rejects").expect("stream");
    wait(&stats, "ingested", |s| s.processed == 3).await;
    clock.set(Timestamp::from_millis(t0 + 10 * MINUTE));
    wait(&stats, "fired", |s| s.windows_fired + s.windows_failed == 3).await;
    let s = stats.snapshot();
    assert_eq!(
        (s.windows_fired, s.windows_failed, s.rows_written),
        (2, 1, 2)
    );
    let end = t0 + 10 * MINUTE;
    for user in ["erin", "frank"] {
        assert_eq!(
            failed(&*store, user, "num_failed_logins[10m]").await,
            Some((1, end)),
            "{user}'s window is written although dave's was refused"
        );
    }
    assert_eq!(
        failed(&*store, "dave", "num_failed_logins[10m]").await,
        None
    );
    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timestamp_far_in_the_future_fails_and_does_not_hold_back_commits() {
    let t0 = start_of_hour();
    let topic = REJECTS_TOPIC;
    // Microseconds where milliseconds belong: tens of thousands of years ahead.
    let records = [attempt(topic, "erin", false, (t0 + MINUTE) * 1000)];
    let (kafka, _clock, runtime) = one_partition(t0, &records).await;
    let running = runtime.start().await.expect("starts");
    let stats = running.stats("failed_logins_rejects").expect("stream");
    wait(&stats, "failed", |s| s.failed == 1).await;
    assert_eq!(stats.snapshot().windows_retained, 0);
    running.shutdown().await.expect("clean shutdown");
    let committed = kafka
        .committed_offsets("chalk/failed_logins_rejects", topic, 1)
        .await
        .expect("committed");
    assert_eq!(committed, [Some(1)], "the offset moved past it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lag_of_a_caught_up_window_stream_is_zero() {
    let t0 = start_of_hour();
    let topic = REJECTS_TOPIC;
    let records: Vec<Record> = (0..5)
        .map(|i| attempt(topic, "erin", false, t0 + i * MINUTE))
        .collect();
    let (_kafka, _clock, runtime) = one_partition(t0, &records).await;
    let running = runtime
        .statistics_interval(std::time::Duration::from_millis(200))
        .start()
        .await
        .expect("starts");
    let stats = running.stats("failed_logins_rejects").expect("stream");
    wait(&stats, "ingested", |s| s.processed == 5).await;
    // Every message is read, and the window keeps the committed offset at its first message.
    let key = (topic.to_owned(), 0);
    suite::wait_until(&[&stats], || stats.consumer_lags().get(&key) == Some(&0)).await;
    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_aborted_at_shutdown_takes_its_windows_off_the_gauge() {
    let t0 = start_of_hour();
    let topic = REJECTS_TOPIC;
    let store = Arc::new(FlakyStore::new());
    store.set_down(true);
    let records = [
        attempt(topic, "erin", false, t0 + MINUTE),
        attempt(topic, "frank", false, t0 + 2 * MINUTE),
    ];
    let (_kafka, clock, runtime) = one_partition(t0, &records).await;
    let running = runtime
        .store(store.clone())
        .drain_timeout(std::time::Duration::from_millis(200))
        .start()
        .await
        .expect("starts");
    let stats = running.stats("failed_logins_rejects").expect("stream");
    wait(&stats, "ingested", |s| s.windows_retained == 2).await;
    // The windows are due, and their write waits for the store, which stays down: the drain
    // at shutdown times out and the worker is aborted mid-loop.
    clock.set(Timestamp::from_millis(t0 + 10 * MINUTE));
    store.wait_for_failed_writes(1).await;
    running.shutdown().await.expect("shutdown");
    // An aborted task is dropped by the runtime soon after, not at once.
    wait(&stats, "the gauge taken back", |s| s.windows_retained == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_memory_is_released_after_retention() {
    let t0 = start_of_hour();
    let h = Harness::new(Broker::mock(), "logins", t0).await;
    let running = h.start(&["failed_logins"]).await;
    let stats = running.stats("failed_logins").expect("stream");
    let users = 50;
    for window in 0..6_i64 {
        let at = t0 + window * 10 * MINUTE + MINUTE;
        h.set_clock(at);
        let records: Vec<Record> = (0..users)
            .map(|u| attempt("logins", &format!("user{u}"), false, at))
            .collect();
        h.kafka.produce_all(&records).await.expect("produce");
        let expected = u64::try_from((window + 1) * users).expect("small");
        wait(&stats, "ingested", |s| s.processed == expected).await;
        // Windows are kept for their 10 minutes plus the 30-minute deadline: at most four
        // windows per user at any time.
        assert!(
            stats.snapshot().windows_retained <= 4 * users as u64,
            "{:?}",
            stats.snapshot()
        );
    }
    assert!(stats.snapshot().windows_retained > 0);
    h.set_clock(t0 + 6 * 10 * MINUTE + 30 * MINUTE);
    wait(&stats, "every window released", |s| s.windows_retained == 0).await;
    assert_eq!(stats.snapshot().windows_fired, 6 * users as u64);
    running.shutdown().await.expect("clean shutdown");
}
