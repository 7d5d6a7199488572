//! The example application's command line, run as a user runs it: `list`, `run --embedded`
//! (in `embedded.rs`), start-up errors, and a clean exit on SIGTERM.

mod arguments;
mod closed_output;
mod embedded;
mod refusals;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `favorite_color` example with no Kafka settings from this environment.
fn example() -> Command {
    let mut command = Command::new(suite::example_path());
    for (var, _) in std::env::vars() {
        if var.contains("KAFKA_") {
            command.env_remove(var);
        }
    }
    command.env("RUST_LOG", "info").env("CHALK_STORE", "memory");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("example runs")
}

/// The cells of each line a command printed: a table's header, then its rows.
fn table(out: &Output) -> Vec<Vec<String>> {
    text(&out.stdout)
        .lines()
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// The example's stream as `list` shows it.
const FAVORITE_COLOR_ROW: [&str; 8] = [
    "favorite_color::favorite_color",
    "user",
    "-",
    "user_favorite_color_updates",
    "chalk/favorite_color::favorite_color",
    "30m",
    "-",
    "-",
];

#[test]
fn list_shows_each_stream_with_its_source() {
    let out = run(example()
        .arg("list")
        .env("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = table(&out);
    assert_eq!(
        lines[0],
        ["STREAM", "ENTITY", "SOURCE", "TOPICS", "GROUP", "DEADLINE", "WINDOW", "DLQ"]
    );
    assert_eq!(lines[1], FAVORITE_COLOR_ROW);

    let out = run(example()
        .args(["list", "--json"])
        .env("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9")
        .env("KAFKA_GROUP_ID_PREFIX", "team/"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json[0]["group_id"], "team/favorite_color::favorite_color");
    assert_eq!(json[0]["entity"], "user");
    assert_eq!(json[0]["features"], serde_json::json!(["favorite_color"]));
    assert_eq!(json[0]["bootstrap_servers"][0], "127.0.0.1:9");
}

/// Describing streams needs no broker: with none set, `list` still shows what the source
/// declares, and says on standard error what `run` would refuse.
#[test]
fn list_needs_no_broker_and_says_what_run_lacks() {
    let problem = "stream `favorite_color::favorite_color`: option `bootstrap_server`: no \
                   bootstrap server is set; call .bootstrap_server(\"host:port\") or set \
                   KAFKA_BOOTSTRAP_SERVER";
    let out = run(example().arg("list"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = table(&out);
    let row = &rows[1];
    assert_eq!(*row, FAVORITE_COLOR_ROW);
    assert_eq!(
        text(&out.stderr),
        format!("`run` would not start until these are fixed:\n  {problem}\n")
    );

    // A source that does not resolve, brokers aside: its topics, group and deadline still show,
    // each if it resolves alone; what does not is unknown (`?`), not none.
    let out = run(example()
        .arg("list")
        .env("KAFKA_SECURITY_PROTOCOL", "bogus"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = table(&out);
    assert_eq!(rows[1], FAVORITE_COLOR_ROW);
    assert!(text(&out.stderr).contains("option `security_protocol`"));

    let out = run(example().args(["list", "--json"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json[0]["resolved"], true, "all it lacks is its brokers");
    assert_eq!(json[0]["topics"][0], "user_favorite_color_updates");
    assert_eq!(json[0]["bootstrap_servers"], serde_json::json!([]));
    assert_eq!(json[0]["problems"], serde_json::json!([problem]));
}

#[test]
fn the_sasl_password_never_appears_in_list_or_errors() {
    let secret = "hunter2-do-not-print";
    let sasl = |command: &mut Command| {
        command
            .env("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9")
            .env("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
            .env("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
            .env("KAFKA_SASL_PASSWORD", secret);
    };
    let mut outputs = Vec::new();
    for args in [&["list"][..], &["list", "--json"], &["run"]] {
        // Without a username every command fails, naming the missing option.
        let mut command = example();
        command.args(args).env("RUST_LOG", "debug");
        sasl(&mut command);
        let out = run(&mut command);
        assert!(text(&out.stderr).contains("option `sasl_username`"));
        outputs.push(out);
    }
    for args in [&["list"][..], &["list", "--json"]] {
        let mut command = example();
        command.args(args).env("KAFKA_SASL_USERNAME", "alice");
        sasl(&mut command);
        let out = run(&mut command);
        assert!(out.status.success(), "{}", text(&out.stderr));
        outputs.push(out);
    }
    for out in outputs {
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(secret), "{all}");
    }
}

/// `--version` and `--help` name the application, and say which chalk-streams it runs on.
#[test]
fn version_names_the_application() {
    let out = run(example().arg("--version"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        // The workspace has one version: this suite's is the library's.
        format!(
            "favorite_color (chalk-streams {})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let out = run(example().arg("--help"));
    assert!(text(&out.stdout).contains("Usage: favorite_color <COMMAND>"));
}

#[test]
fn missing_broker_is_one_clear_start_up_error() {
    let out = run(example().arg("run"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "error: configuration problem: stream `favorite_color::favorite_color`: option `bootstrap_server`: \
         no bootstrap server is set; call .bootstrap_server(\"host:port\") or set KAFKA_BOOTSTRAP_SERVER"
    );
}

/// A metrics port in use stops start-up before the cluster or any stream starts.
#[test]
fn a_metrics_port_in_use_stops_start_up_first() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = taken.local_addr().expect("bound");
    let out = run(example().args(["run", "--embedded", "--metrics-addr", &addr.to_string()]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "", "nothing started");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("error: cannot listen on {addr} for metrics")),
        "{stderr}"
    );
    assert!(!stderr.contains("started"), "{stderr}");
}

#[test]
fn sigterm_stops_the_streams_cleanly() {
    let mut child = example()
        .args(["run", "--embedded", "--keep-running"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("example starts");
    let stdout = child.stdout.take().expect("piped");
    let (ready_tx, ready) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("streams keep running") {
                let _ = ready_tx.send(());
            }
        }
    });
    ready
        .recv_timeout(Duration::from_secs(60))
        .expect("the streams processed the samples and kept running");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());

    let (exit_tx, exit) = mpsc::channel();
    let stderr = child.stderr.take().expect("piped");
    std::thread::spawn(move || {
        let mut log = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            log.push_str(&line);
            log.push('\n');
        }
        let _ = exit_tx.send((child.wait(), log));
    });
    let (status, log) = exit
        .recv_timeout(Duration::from_secs(40))
        .expect("the process exits within the shutdown deadline");
    assert!(status.expect("wait").success(), "{log}");
    assert!(log.contains("shutdown requested"), "{log}");
    assert!(log.contains("stream stopped"), "{log}");
}

/// A window stream keeps a window at most the window retention after its end: `list` shows
/// its deadline as it applies.
#[test]
fn list_shows_a_window_streams_deadline_as_the_retention_caps_it() {
    let list = |retention: Option<&str>| {
        let mut command = Command::new(suite::example_named("failed_logins"));
        command
            .args(["list", "--json"])
            .env_remove("CHALK_WINDOW_RETENTION");
        if let Some(retention) = retention {
            command.env("CHALK_WINDOW_RETENTION", retention);
        }
        let out = run(&mut command);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        json[0]["late_arrival_deadline"].clone()
    };
    assert_eq!(list(None), "2h");
    assert_eq!(
        list(Some("1h")),
        "2h (capped at 1h by the window retention)"
    );
}

/// An empty `CHALK_*` variable counts as unset, as an empty `KAFKA_*` one does.
#[test]
fn empty_chalk_variables_count_as_unset() {
    let out = run(example()
        .arg("list")
        .env("CHALK_WINDOW_RETENTION", "")
        .env("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9092"));
    assert!(out.status.success(), "{}", text(&out.stderr));

    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(example()
        .args(["get", "user", "u1"])
        .current_dir(dir.path())
        .env("CHALK_STORE", " "));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no store file at chalk-features.sqlite"),
        "the default store: {}",
        text(&out.stderr)
    );
}

/// A bad value from a `CHALK_*` variable is a usage error that names the variable, not only the
/// flag it stands for; a bad value on the command line names the flag.
#[test]
fn a_bad_chalk_variable_is_named_in_the_error() {
    let out = run(example()
        .arg("list")
        .env("CHALK_WINDOW_RETENTION", "a day")
        .env("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9092"));
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let error = text(&out.stderr);
    assert!(
        error.starts_with("error: invalid value 'a day' in CHALK_WINDOW_RETENTION")
            && error.contains("'--window-retention <DURATION>'")
            && error.contains("`a day` is not a duration"),
        "{error}"
    );

    let out = run(example()
        .args(["run", "--window-retention", "a day"])
        .env("CHALK_WINDOW_RETENTION", "1h"));
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let error = text(&out.stderr);
    assert!(
        error.starts_with("error: invalid value 'a day' for '--window-retention <DURATION>'")
            && !error.contains("CHALK_WINDOW_RETENTION"),
        "{error}"
    );

    let out = run(example()
        .args(["get", "user", "u1"])
        .env("CHALK_STORE", "s3://bucket"));
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        text(&out.stderr).starts_with("error: invalid value 's3://bucket' in CHALK_STORE"),
        "{}",
        text(&out.stderr)
    );
}

/// A Redis password in `CHALK_STORE` or `--store` is shown neither by `--help` (which shows
/// the variables' values) nor in a usage error (which repeats the value given).
#[test]
fn a_store_password_never_appears_in_help_or_usage_errors() {
    let out = run(example()
        .args(["get", "--help"])
        .env("CHALK_STORE", "redis://:s3cret@127.0.0.1:9"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("[env: CHALK_STORE]"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stdout).contains("s3cret"),
        "{}",
        text(&out.stdout)
    );

    let from_variable = run(example()
        .args(["get", "user", "u1"])
        .env("CHALK_STORE", "valkey://:s3cret@127.0.0.1:9"));
    let from_flag = run(example().args(["get", "user", "u1", "--store", "valkey://:s3cret@h:9"]));
    for out in [from_variable, from_flag] {
        assert_eq!(out.status.code(), Some(2), "a usage error");
        let error = text(&out.stderr);
        assert!(
            error.contains("unknown feature store `valkey://:***@"),
            "{error}"
        );
        assert!(!error.contains("s3cret"), "{error}");
    }
}

#[test]
fn get_needs_an_entity() {
    let out = run(example().args(["get", "", "u1"]));
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        text(&out.stderr).contains("a value is required for '<ENTITY>'"),
        "{}",
        text(&out.stderr)
    );
}
