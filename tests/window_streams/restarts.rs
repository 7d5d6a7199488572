//! Restarts that end equal to an uninterrupted run: mid-window, after a late re-fire, and once a kept window's first messages are older than the deadline.

use super::*;

/// Runs a fixed scenario from `t0`, restarting the runtime before the steps listed in
/// `restart_before` (all window state is in memory, so a restart loses it as a crash would).
/// Returns the store's final contents.
async fn scenario(broker: Broker, t0: i64, restart_before: &[usize]) -> Vec<Entity> {
    let topic = "replay";
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
    h.set_clock(t0 + 70 * MINUTE + 1);
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
    // One start for every run, so that their stores compare even across an hour's turn.
    let t0 = start_of_hour();
    let uninterrupted = scenario(broker.another(), t0, &[]).await;
    assert!(!uninterrupted.is_empty());
    let mid_window = scenario(broker.another(), t0, &[3]).await;
    assert_eq!(mid_window, uninterrupted, "restart mid-window");
    let after_late_refire = scenario(broker.another(), t0, &[5]).await;
    assert_eq!(
        after_late_refire, uninterrupted,
        "restart after a late re-fire"
    );
    let past_the_deadline = scenario(broker, t0, &[7]).await;
    assert_eq!(
        past_the_deadline, uninterrupted,
        "restart once the first messages of a kept window are older than the deadline"
    );
}
