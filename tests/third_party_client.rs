//! Wire compatibility with a client we did not write: Debian's `kcat` (librdkafka's command-line
//! client) produces the seed example's input to a real `tansu` broker, the example's stream
//! processes it, and our `get` command reads the features back; and what our `push` command
//! produces, `kcat` consumes.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use chalk_streams::testing::KafkaTestClient;
use suite::example_path;
use suite::sqlite_file::wait_for_rows;
use suite::tansu::Tansu;

const TOPIC: &str = "user_favorite_color_updates";
const USERS: u32 = 30;

/// Debian's `kcat` program. It loads librdkafka from `LD_LIBRARY_PATH` first, which `cargo
/// test` points at the librdkafka this project builds: Debian's own librdkafka (2.0.2) cannot
/// read tansu 0.6's ApiVersions answer ("Read underflow"), so kcat's code runs here on ours.
fn kcat(bootstrap: &str) -> Command {
    let mut command = Command::new("kcat");
    command.args(["-b", bootstrap]);
    command
}

fn output(command: &mut Command) -> Output {
    let out = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{command:?} runs (scripts/setup.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The example with no Kafka or store settings of this environment but those given.
fn example(bootstrap: &str, store: &Path) -> Command {
    let mut command = Command::new(example_path());
    for (var, _) in std::env::vars() {
        if var.contains("KAFKA_") || var == "CHALK_STORE" {
            command.env_remove(var);
        }
    }
    command
        .env("KAFKA_BOOTSTRAP_SERVER", bootstrap)
        .env("CHALK_STORE", format!("sqlite://{}", store.display()))
        .env("RUST_LOG", "warn");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kcat_produces_what_the_stream_processes_and_get_reads_back() {
    let tansu = Tansu::start();
    let bootstrap = tansu.bootstrap_servers();
    KafkaTestClient::connect(&bootstrap, &[])
        .expect("client")
        .create_topic_with_admin(TOPIC, 3)
        .await
        .expect("topic created");
    let dir = tempfile::tempdir().expect("temp dir");

    // kcat reads `key|value` lines from a file, one message each.
    let input = dir.path().join("updates.txt");
    let lines: String = (0..USERS)
        .map(|i| format!("u{i}|{{\"user_id\": \"u{i}\", \"favorite_color\": \"shade-{i}\"}}\n"))
        .collect();
    std::fs::write(&input, lines).expect("input written");
    output(
        kcat(&bootstrap)
            .args(["-t", TOPIC, "-P", "-K", "|", "-l"])
            .arg(&input),
    );

    let store = dir.path().join("features.sqlite");
    let mut running = example(&bootstrap, &store)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the example starts");
    wait_for_rows(&store, i64::from(USERS), &mut running);
    let pid = libc::pid_t::try_from(running.id()).expect("a pid");
    // SAFETY: kill(2) on our own child's pid, which is not reaped yet.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert!(running.wait().expect("reaped").success(), "a clean stop");

    for i in 0..USERS {
        let out =
            output(example(&bootstrap, &store).args(["get", "user", &format!("u{i}"), "--json"]));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(
            json["features"]["favorite_color"]["value"],
            format!("shade-{i}"),
            "u{i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_push_produces_kcat_consumes() {
    let tansu = Tansu::start();
    let bootstrap = tansu.bootstrap_servers();
    KafkaTestClient::connect(&bootstrap, &[])
        .expect("client")
        .create_topic_with_admin("scratch", 1)
        .await
        .expect("topic created");
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("lines.jsonl");
    std::fs::write(&input, "{\"n\": 1}\n{\"n\": 2}\n{\"n\": 3}\n").expect("input written");
    let pushed = output(
        example(&bootstrap, &dir.path().join("unused.sqlite"))
            .args([
                "push",
                "--topic",
                "scratch",
                "--key",
                "k",
                "--bootstrap",
                &bootstrap,
            ])
            .arg("--file")
            .arg(&input),
    );
    assert_eq!(
        String::from_utf8_lossy(&pushed.stdout).trim(),
        "3 of 3 messages acknowledged by topic `scratch`"
    );
    // -e: exit at the end of the partition, so this returns once everything is read.
    let consumed = output(kcat(&bootstrap).args([
        "-t",
        "scratch",
        "-C",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%k|%s\\n",
    ]));
    assert_eq!(
        String::from_utf8_lossy(&consumed.stdout),
        "k|{\"n\": 1}\nk|{\"n\": 2}\nk|{\"n\": 3}\n"
    );
}
