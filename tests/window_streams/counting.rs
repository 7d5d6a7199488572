//! Counting in windows: exact counts, windows that close while the stream is idle, late messages that correct a fired window, several sizes, and memory released after retention.

use super::*;

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
    // Kept through the deadline after their end, released once past it.
    h.set_clock(t0 + 6 * 10 * MINUTE + 30 * MINUTE + 1);
    wait(&stats, "every window released", |s| s.windows_retained == 0).await;
    assert_eq!(stats.snapshot().windows_fired, 6 * users as u64);
    running.shutdown().await.expect("clean shutdown");
}

/// A memory store that keeps the size of the largest write.
#[derive(Default)]
struct LargestWrite {
    inner: MemoryStore,
    rows: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl FeatureStore for LargestWrite {
    async fn write(
        &self,
        rows: &[chalk_streams::FeatureRow],
    ) -> Result<(), chalk_streams::store::StoreError> {
        self.rows
            .fetch_max(rows.len(), std::sync::atomic::Ordering::SeqCst);
        self.inner.write(rows).await
    }

    async fn entity(
        &self,
        namespace: &str,
        key: &str,
    ) -> Result<Option<Entity>, chalk_streams::store::StoreError> {
        self.inner.entity(namespace, key).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, chalk_streams::store::StoreError> {
        self.inner.scan().await
    }
}

/// Windows due at once (those of 2,500 users, ending together; after a replay, a day of them)
/// are written 1,024 at a time, rather than all held in memory for one write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_windows_due_at_once_are_written_in_parts() {
    let t0 = start_of_hour();
    let kafka = Broker::mock().with_topics(&["logins"], 1).await;
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(t0 + 5 * MINUTE)));
    let store = Arc::new(LargestWrite::default());
    let users: Vec<String> = (0..2_500).map(|i| format!("user{i}")).collect();
    let records: Vec<Record> = users
        .iter()
        .map(|user| attempt("logins", user, false, t0 + MINUTE))
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let running = runtime_for(&kafka, &["failed_logins"])
        .store(store.clone())
        .clock(clock.clone())
        .start()
        .await
        .expect("starts");
    let stats = running.stats("failed_logins").expect("stream");
    wait(&stats, "all messages in windows", |s| s.processed == 2_500).await;
    clock.set(Timestamp::from_millis(t0 + 10 * MINUTE));
    wait(&stats, "every window fired", |s| s.windows_fired == 2_500).await;
    running.shutdown().await.expect("clean shutdown");
    let end = t0 + 10 * MINUTE;
    for user in [&users[0], &users[1_500], &users[2_499]] {
        assert_eq!(
            failed(&*store, user, "num_failed_logins[10m]").await,
            Some((1, end)),
            "{user}"
        );
    }
    let largest = store.rows.load(std::sync::atomic::Ordering::SeqCst);
    assert!(largest <= 1_024, "a write of {largest} rows");
}
