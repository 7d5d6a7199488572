//! Crash safety: a process running a stream is killed with SIGKILL mid-way and started again;
//! every message's features end up in the store (duplicates allowed, losses not).

use std::path::Path;
use std::process::{Child, Command, Stdio};

use chalk_streams::testing::Record;
use serde_json::json;
use suite::sqlite_file::{stored_rows, wait_for_rows};
use suite::{example_path, kafka_with_topics};

const TOPIC: &str = "user_favorite_color_updates";
const MESSAGES: i64 = 30_000;

fn start(bootstrap: &str, store: &Path) -> Child {
    Command::new(example_path())
        .arg("run")
        .env("KAFKA_BOOTSTRAP_SERVER", bootstrap)
        .env(
            "KAFKA_ADDITIONAL_KAFKA_ARGS",
            r#"{"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}"#,
        )
        .env("CHALK_STORE", format!("sqlite://{}", store.display()))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the example starts")
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
    wait_for_rows(&store, 1_000, &mut first);
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    let at_kill = stored_rows(&store);
    assert!(
        at_kill < MESSAGES,
        "killed mid-stream ({at_kill} of {MESSAGES} stored)"
    );

    let mut second = start(kafka.bootstrap_servers(), &store);
    wait_for_rows(&store, MESSAGES, &mut second);
    second.kill().expect("stop");
    second.wait().expect("reaped");

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
