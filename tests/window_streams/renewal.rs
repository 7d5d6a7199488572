//! A window stream's partition taken away while its worker is busy past the drain timeout, and
//! given back while that aborted worker still runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use suite::rebalance::{Gate, OtherMember};

use super::*;

static SLOW_WINDOWS: KafkaSource = KafkaSource::new().topic("slow_windows");
static SLOWED: AtomicBool = AtomicBool::new(false);
static GATE: Gate = Gate::new();

/// Held the first time a window fires, until the test releases it.
#[stream(source = SLOW_WINDOWS, name = "slow_windows", window = "10m")]
fn slow_windows(attempts: Vec<Message<LoginAttempt>>) -> Option<UserLogins> {
    if !SLOWED.swap(true, Ordering::SeqCst) {
        GATE.hold();
    }
    count_failures(&attempts)
}

/// When the aborted worker ends, dropping its handle on the partition's queue switches off the
/// new worker's wake-up: the new worker must still read the messages that come after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_partition_given_back_while_its_aborted_worker_runs_is_still_read() {
    let t0 = start_of_hour();
    let kafka = Broker::mock()
        .with_topics(&["slow_windows", "elsewhere"], 1)
        .await;
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(t0 + MINUTE)));
    kafka
        .produce(&attempt("slow_windows", "carol", false, t0 + MINUTE))
        .await
        .expect("produce");
    let store = Arc::new(MemoryStore::new());
    let running = runtime_for(&kafka, &["slow_windows"])
        .store(store.clone())
        .clock(clock.clone())
        .drain_timeout(Duration::from_secs(1))
        .start()
        .await
        .expect("starts");
    let stats = running.stats("slow_windows").expect("stream");
    wait(&stats, "the first attempt in its window", |s| {
        s.processed == 1
    })
    .await;
    clock.set(Timestamp::from_millis(t0 + 10 * MINUTE));
    GATE.held("the window fired into the slow resolver").await;

    // Another member of the group, reading another topic: the group rebalances, and the
    // partition comes back to the stream (revoked, then assigned again).
    let member = OtherMember::join(kafka.bootstrap_servers(), "chalk/slow_windows", "elsewhere");
    wait(&stats, "revoked", |s| s.assigned_partitions == 0).await;
    wait(&stats, "assigned again", |s| s.assigned_partitions == 1).await;
    GATE.release();

    let later: Vec<Record> = (11..16)
        .map(|minute| attempt("slow_windows", "carol", false, t0 + minute * MINUTE))
        .collect();
    kafka.produce_all(&later).await.expect("produce");
    // The first attempt may be read again by the new worker (its window never fired to the
    // end there): at least the five later ones must be read.
    wait(&stats, "the attempts after the rebalance are read", |s| {
        s.processed >= 6
    })
    .await;
    // All five are in their window: it fires with a count of 5 once it has ended.
    clock.set(Timestamp::from_millis(t0 + 20 * MINUTE));
    let expected = Some((5, t0 + 20 * MINUTE));
    let fired = tokio::time::timeout(PATIENCE, async {
        loop {
            let change = stats.next_change();
            tokio::pin!(change);
            change.as_mut().enable();
            if failed(&*store, "carol", "num_failed_logins[10m]").await == expected {
                return;
            }
            change.await;
        }
    })
    .await;
    assert!(
        fired.is_ok(),
        "carol's window [10, 20): {:?}",
        failed(&*store, "carol", "num_failed_logins[10m]").await
    );
    member.leave();
    running.shutdown().await.expect("clean shutdown");
}
