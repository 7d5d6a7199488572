//! One partition, one stream: a window output the store refuses, a timestamp far in the future, the lag of a caught-up stream, and a worker aborted at shutdown.

use super::*;

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
