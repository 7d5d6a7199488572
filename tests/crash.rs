//! Crash safety: a process running a stream is killed with SIGKILL mid-way and started again;
//! every message's features end up in the store (duplicates allowed, losses not), and every
//! window of a window stream ends with its complete count.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chalk_streams::testing::{MockKafka, Record};
use serde_json::json;
use suite::sqlite_file::{still_waiting, stored_rows, wait_for_rows};
use suite::{example_named, example_path, kafka_with_topics};

const TOPIC: &str = "user_favorite_color_updates";
const MESSAGES: i64 = 30_000;

/// A stream's process, killed when dropped: a failed assertion does not leave it running.
struct StreamProcess(Child);

impl StreamProcess {
    /// Kills it with SIGKILL, as a crash would, and reaps it.
    fn crash(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("reaped");
    }

    /// Stops it with SIGTERM, as an operator would, and waits for it to exit: it finishes and
    /// writes what it has in hand first. Panics if it does not exit cleanly within a minute.
    fn stop(&mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM");
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.0.try_wait().expect("status") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running a minute after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "stopped cleanly: {status}");
    }
}

impl Drop for StreamProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bootstrap: &str, store: &Path) -> StreamProcess {
    start_example(&example_path(), bootstrap, store)
}

fn start_example(example: &Path, bootstrap: &str, store: &Path) -> StreamProcess {
    let child = Command::new(example)
        .arg("run")
        .env("KAFKA_BOOTSTRAP_SERVER", bootstrap)
        .env(
            "KAFKA_ADDITIONAL_KAFKA_ARGS",
            r#"{"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}"#,
        )
        // Batches are written 20 ms after they are accepted rather than the default second,
        // within which the first process would handle all 30,000 messages: the kill then
        // comes with batches accepted and not yet written, whose offsets must not be
        // committed.
        .env(
            "CHALK_STORE",
            format!("sqlite://{}?flush_interval=20ms", store.display()),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the example starts");
    StreamProcess(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_then_restart_loses_nothing() {
    let kafka = kafka_with_topics(&[TOPIC], 4);
    let records: Vec<Record> = (0..MESSAGES)
        .map(|i| {
            Record::json(
                TOPIC,
                &json!({"user_id": format!("u{i}"), "favorite_color": format!("c{i}")}),
            )
            .key(format!("u{i}"))
        })
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("features.sqlite");

    let mut first = start(kafka.bootstrap_servers(), &store);
    wait_for_rows(&store, 1_000, &mut first.0);
    first.crash();
    let at_kill = stored_rows(&store);
    assert!(
        at_kill < MESSAGES,
        "killed mid-stream ({at_kill} of {MESSAGES} stored)"
    );

    let mut second = start(kafka.bootstrap_servers(), &store);
    wait_for_rows(&store, MESSAGES, &mut second.0);
    second.crash();

    let connection = rusqlite::Connection::open(&store).expect("open");
    let correct: i64 = connection
        .query_row(
            "SELECT COUNT(*) FROM features WHERE namespace = 'user' AND feature = 'favorite_color' \
             AND value = 'c' || substr(entity_key, 2)",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        correct, MESSAGES,
        "every message's features are in the store"
    );
}

const LOGIN_TOPIC: &str = "login_attempts";
const USERS: i64 = 200;
const ATTEMPTS_PER_USER: i64 = 300;
const MINUTE: i64 = 60_000;

/// Each user's stored `(failures in the last 10-minute window, failures in the hour)`.
type Counts = BTreeMap<String, (Option<i64>, Option<i64>)>;

fn stored_counts(store: &Path) -> Counts {
    let mut counts = Counts::new();
    let Ok(connection) =
        rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return counts;
    };
    let Ok(mut statement) = connection
        .prepare("SELECT entity_key, feature, value FROM features WHERE namespace = 'user'")
    else {
        return counts;
    };
    let rows = statement
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })
        .expect("read the features");
    for row in rows {
        let (user, feature, value) = row.expect("a row");
        let entry = counts.entry(user).or_default();
        match feature.as_str() {
            "num_failed_logins[10m]" => entry.0 = Some(value),
            "num_failed_logins[1h]" => entry.1 = Some(value),
            other => panic!("unexpected feature {other}"),
        }
    }
    counts
}

/// Polls the store file (another process writes it) until it holds `expected`.
fn wait_for_counts(store: &Path, expected: &Counts, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let counts = stored_counts(store);
        if &counts == expected {
            return;
        }
        still_waiting(child, deadline, || {
            format!(
                "the store never held every window's complete count; it holds {} users, and {} \
                 of them as expected",
                counts.len(),
                counts
                    .iter()
                    .filter(|(u, c)| expected.get(*u) == Some(c))
                    .count()
            )
        });
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls the group's commits until every partition has one: the process has committed what it
/// read, while its windows are still open to the messages to come.
async fn wait_for_commits(kafka: &MockKafka, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let committed = kafka
            .committed_offsets("chalk/failed_logins::failed_logins", LOGIN_TOPIC, 4)
            .await
            .expect("committed");
        if committed.iter().all(Option::is_some) {
            return;
        }
        still_waiting(child, deadline, || {
            format!("nothing committed: {committed:?}")
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_window_stream_then_restart_fires_every_window_complete() {
    let kafka = kafka_with_topics(&[LOGIN_TOPIC], 4);
    // Every attempt in the last half of the previous hour: all its windows have ended, well
    // within the example's two-hour deadline, so each fires as its messages are read and again
    // as more come, and its last output is its complete count.
    let now = chalk_streams::Timestamp::now().as_millis();
    let hour_end = now - now.rem_euclid(60 * MINUTE);
    let spacing = 30 * MINUTE / ATTEMPTS_PER_USER;
    let mut records = Vec::new();
    let mut expected = Counts::new();
    // Users interleaved, so that each half of the messages has some of every window.
    for attempt in 0..ATTEMPTS_PER_USER {
        for u in 0..USERS {
            let user = format!("u{u}");
            let at = hour_end - 30 * MINUTE + attempt * spacing;
            let failed = (attempt + u) % 3 != 0;
            records.push(
                Record::json(LOGIN_TOPIC, &json!({"user": user, "success": !failed}))
                    .key(user.clone())
                    .timestamp(chalk_streams::Timestamp::from_millis(at)),
            );
            let counts = expected.entry(user).or_insert((Some(0), Some(0)));
            if failed {
                counts.1 = counts.1.map(|n| n + 1);
                if at >= hour_end - 10 * MINUTE {
                    counts.0 = counts.0.map(|n| n + 1);
                }
            }
        }
    }
    let (first_half, second_half) = records.split_at(records.len() / 2);
    kafka.produce_all(first_half).await.expect("produce");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("features.sqlite");
    let example = example_named("failed_logins");

    // Killed once it has committed what it read: every window it fired is still open to the
    // second half, and kept only in its memory and in the messages left uncommitted.
    let mut first = start_example(&example, kafka.bootstrap_servers(), &store);
    wait_for_rows(&store, 1, &mut first.0);
    wait_for_commits(&kafka, &mut first.0).await;
    first.crash();
    kafka.produce_all(second_half).await.expect("produce");

    let mut second = start_example(&example, kafka.bootstrap_servers(), &store);
    wait_for_counts(&store, &expected, &mut second.0);
    // Stopped cleanly, it writes whatever it still had to: nothing may replace a complete count.
    second.stop();
    assert_eq!(
        stored_counts(&store),
        expected,
        "no window's output was replaced after it was complete"
    );
}
