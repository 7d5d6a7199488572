//! `check`, `push` and `dlq replay`, run as a user runs them, against a mock cluster in this
//! process. Every child process is waited for with a bound of the test's own: a command that
//! hangs fails the test instead of stalling it.

use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chalk_streams::testing::MockKafka;
use rdkafka::message::{Headers as _, Message as _, OwnedMessage};
use suite::server::closed_port;
use suite::{example_named, kafka_with_topics};

/// The favorite_color example's stream and topic.
const FAVORITE_COLOR: &str = "favorite_color::favorite_color";
const COLOR_TOPIC: &str = "user_favorite_color_updates";

/// How long any other command may take before the test gives up on it.
const COMMAND_BOUND: Duration = Duration::from_secs(60);
/// How long `MockKafka::read` waits for one message more than expected, which must not come.
const QUIET: Duration = Duration::from_secs(2);

/// An example binary with no Kafka settings from this environment.
fn example(name: &str) -> Command {
    let mut command = Command::new(example_named(name));
    for (var, _) in std::env::vars() {
        if var.contains("KAFKA_") {
            command.env_remove(var);
        }
    }
    command.env("RUST_LOG", "info").env("CHALK_STORE", "memory");
    command
}

/// What a finished command printed, how it exited and how long it took.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Finished {
    fn assert_success(&self) {
        assert!(
            self.status.success(),
            "status {}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
    }

    fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// Runs `command` with `stdin` as its input; panics (after killing it) if it has not exited
/// within `bound`.
fn run_within(command: &mut Command, stdin: &[u8], bound: Duration) -> Finished {
    let started = Instant::now();
    let output = suite::output_within(command, stdin, bound);
    Finished {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

fn run(command: &mut Command) -> Finished {
    run_within(command, b"", COMMAND_BOUND)
}

/// Key and payload of each message, as text.
fn keys_and_payloads(messages: &[OwnedMessage]) -> Vec<(Option<String>, String)> {
    messages
        .iter()
        .map(|m| {
            (
                m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
            )
        })
        .collect()
}

/// Every header of `message`, in order, values as text.
fn headers(message: &OwnedMessage) -> Vec<(String, String)> {
    message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| {
                    let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                    (h.key.to_owned(), value.into_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

mod check;
mod push;
mod replay;
