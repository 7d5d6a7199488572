//! `check`, `push` and `dlq replay`, run as a user runs them, against a mock cluster in this
//! process. Every child process is waited for with a bound of the test's own: a command that
//! hangs fails the test instead of stalling it.

use std::io::Write as _;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chalk_streams::dlq;
use chalk_streams::testing::{MockKafka, Record};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers as _, Message as _, OwnedMessage};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use suite::{example_named, kafka_with_topics};

/// The favorite_color example's stream and topic.
const FAVORITE_COLOR: &str = "favorite_color::favorite_color";
const COLOR_TOPIC: &str = "user_favorite_color_updates";

/// How long a `check` that finds a problem may take: well under its default 10 s deadline, so
/// it must have recognised the problem rather than waited it out.
const CHECK_FAILS_WITHIN: Duration = Duration::from_secs(6);
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
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let pid = child.id();
    let mut input = child.stdin.take().expect("piped");
    let stdin = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait_with_output());
    });
    match done.recv_timeout(bound) {
        Ok(output) => {
            let output = output.expect("the example ran");
            Finished {
                status: output.status,
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                elapsed: started.elapsed(),
            }
        }
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{command:?} did not exit within {bound:?}");
        }
    }
}

fn run(command: &mut Command) -> Finished {
    run_within(command, b"", COMMAND_BOUND)
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound").port()
}

/// Runs `check` and asserts it fails with exactly `problem` on stderr, within
/// [`CHECK_FAILS_WITHIN`].
fn assert_check_fails(command: &mut Command, problem: &str) -> Duration {
    let out = run_within(command.arg("check"), b"", CHECK_FAILS_WITHIN);
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert_eq!(out.stderr, format!("error: {problem}\n"));
    assert_eq!(out.stdout, "");
    eprintln!("check failed in {:?}: {problem}", out.elapsed);
    out.elapsed
}

#[test]
fn check_reports_each_stream_ok_when_its_topics_exist() {
    let kafka = kafka_with_topics(&[COLOR_TOPIC], 3);
    let out = run(example("favorite_color")
        .arg("check")
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    out.assert_success();
    assert_eq!(
        out.stdout_lines(),
        [format!(
            "ok: stream `{FAVORITE_COLOR}`: {COLOR_TOPIC} (3 partitions) on {}",
            kafka.bootstrap_servers()
        )]
    );
    assert_eq!(out.stderr, "", "no librdkafka log lines");

    // The dead-letter topic is checked too.
    let kafka = kafka_with_topics(&["orders"], 1);
    let out = run_within(
        example("orders_dlq")
            .arg("check")
            .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()),
        b"",
        CHECK_FAILS_WITHIN,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr,
        format!(
            "error: stream `orders`: dead-letter topic `orders_dlq` does not exist on {}\n",
            kafka.bootstrap_servers()
        )
    );
    kafka.create_topic("orders_dlq", 2).expect("topic created");
    let out = run(example("orders_dlq")
        .args(["check", "--only", "orders"])
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    out.assert_success();
    assert_eq!(
        out.stdout_lines(),
        [format!(
            "ok: stream `orders`: orders (1 partition), orders_dlq (2 partitions) on {}",
            kafka.bootstrap_servers()
        )]
    );
}

#[test]
fn check_lists_configuration_problems_as_run_does() {
    let check = run(example("favorite_color").arg("check"));
    let start = run(example("favorite_color").arg("run"));
    assert_eq!(check.status.code(), Some(1));
    assert!(
        check
            .stderr
            .starts_with("error: configuration problem: stream `"),
        "{}",
        check.stderr
    );
    assert_eq!(check.stderr, start.stderr);
}

#[test]
fn check_fails_fast_when_no_broker_listens() {
    let broker = format!("127.0.0.1:{}", closed_port());
    assert_check_fails(
        example("favorite_color").env("KAFKA_BOOTSTRAP_SERVER", &broker),
        &format!("stream `{FAVORITE_COLOR}`: cannot connect to {broker}: connection refused"),
    );
}

#[test]
fn check_fails_fast_when_a_topic_is_missing() {
    let kafka = kafka_with_topics(&["some_other_topic"], 1);
    assert_check_fails(
        example("favorite_color").env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()),
        &format!(
            "stream `{FAVORITE_COLOR}`: topic `{COLOR_TOPIC}` does not exist on {}",
            kafka.bootstrap_servers()
        ),
    );
}

/// The mock cluster speaks no SASL: its ApiVersions answer lists no SaslHandshake, so a client
/// configured for SASL_PLAINTEXT connects, then fails at the start of the SASL exchange, before
/// any credential is sent. A real broker's answer to a wrong password (`SaslAuthenticate`
/// failing) is exercised on tansu: tests/sasl.rs (`run`) and tests/tls.rs (`check`).
#[test]
fn check_fails_fast_when_the_sasl_login_fails() {
    let kafka = kafka_with_topics(&[COLOR_TOPIC], 1);
    let password = "not-her-password";
    let elapsed = assert_check_fails(
        example("favorite_color")
            .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers())
            .env("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
            .env("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
            .env("KAFKA_SASL_USERNAME", "alice")
            .env("KAFKA_SASL_PASSWORD", password),
        &format!(
            "stream `{FAVORITE_COLOR}`: authentication failed at {} as `alice` \
             (SASL_PLAINTEXT, SCRAM-SHA-256): Failed to initialize SASL authentication: \
             SASL Handshake not supported by broker (required by mechanism SCRAM-SHA-256)",
            kafka.bootstrap_servers()
        ),
    );
    assert!(elapsed < CHECK_FAILS_WITHIN);
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

#[tokio::test(flavor = "multi_thread")]
async fn push_produces_each_line_of_a_file_with_the_source_brokers() {
    let kafka = kafka_with_topics(&[COLOR_TOPIC], 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("updates.jsonl");
    std::fs::write(
        &file,
        "{\"user_id\": \"u1\", \"favorite_color\": \"red\"}\n\n   \n\
         {\"user_id\": \"u2\", \"favorite_color\": \"teal\"}\r\n\
         {\"user_id\": \"u1\", \"favorite_color\": \"blue\"}",
    )
    .expect("file written");
    // No --bootstrap: the brokers are those of the stream that reads the topic.
    let out = run(example("favorite_color")
        .args(["push", "--topic", COLOR_TOPIC, "--key", "users", "--file"])
        .arg(&file)
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    out.assert_success();
    assert_eq!(
        out.stdout_lines(),
        [format!(
            "3 of 3 messages acknowledged by topic `{COLOR_TOPIC}`"
        )]
    );
    let messages = kafka.read(COLOR_TOPIC, 4, QUIET).await.expect("topic read");
    let key = Some("users".to_owned());
    assert_eq!(
        keys_and_payloads(&messages),
        [
            (
                key.clone(),
                r#"{"user_id": "u1", "favorite_color": "red"}"#.to_owned()
            ),
            (
                key.clone(),
                r#"{"user_id": "u2", "favorite_color": "teal"}"#.to_owned()
            ),
            (
                key,
                r#"{"user_id": "u1", "favorite_color": "blue"}"#.to_owned()
            ),
        ],
        "one message per non-empty line, in order, whitespace trimmed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn push_produces_standard_input_to_the_bootstrap_brokers() {
    let kafka = kafka_with_topics(&["scratch"], 1);
    // No stream reads `scratch`: without --bootstrap there is no broker to use.
    let out = run(example("favorite_color")
        .args(["push", "--topic", "scratch", "-"])
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr,
        "error: no broker known for topic `scratch`: no registered stream reads it; \
         pass --bootstrap HOST:PORT\n"
    );

    let out = run_within(
        example("favorite_color").args([
            "push",
            "--topic",
            "scratch",
            "--bootstrap",
            kafka.bootstrap_servers(),
            "-",
        ]),
        b"{\"n\": 1}\n{\"n\": 2}\n",
        COMMAND_BOUND,
    );
    out.assert_success();
    assert_eq!(
        out.stdout_lines(),
        ["2 of 2 messages acknowledged by topic `scratch`"]
    );
    let messages = kafka.read("scratch", 3, QUIET).await.expect("topic read");
    assert_eq!(
        keys_and_payloads(&messages),
        [
            (None, r#"{"n": 1}"#.to_owned()),
            (None, r#"{"n": 2}"#.to_owned())
        ]
    );
}

#[test]
fn push_fails_when_messages_are_not_acknowledged() {
    let broker = format!("127.0.0.1:{}", closed_port());
    let out = run_within(
        example("favorite_color").args([
            "push",
            "--topic",
            "scratch",
            "--bootstrap",
            &broker,
            "--timeout",
            "1s",
        ]),
        b"{\"n\": 1}\n{\"n\": 2}\n",
        COMMAND_BOUND,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stdout_lines(),
        ["0 of 2 messages acknowledged by topic `scratch`"]
    );
    assert_eq!(
        out.stderr,
        format!(
            "error: 2 of 2 messages to `scratch` not acknowledged: MessageTimedOut (Local: \
             Message timed out); cannot connect to {broker}: connection refused\n"
        )
    );
}

/// Everything on `topic` (its `partitions` partitions), read to the end of each partition.
async fn read_to_end(kafka: &MockKafka, topic: &str, partitions: i32) -> Vec<OwnedMessage> {
    let servers = kafka.bootstrap_servers().to_owned();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &servers)
            .set("group.id", "cli-commands-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()
            .expect("consumer created");
        {
            let mut all = TopicPartitionList::new();
            for partition in 0..partitions {
                all.add_partition_offset(&topic, partition, Offset::Beginning)
                    .expect("partition added");
            }
            consumer.assign(&all).expect("partitions assigned");
        }
        let deadline = Instant::now() + COMMAND_BOUND;
        let mut at_end = std::collections::BTreeSet::new();
        let mut messages = Vec::new();
        while at_end.len() < usize::try_from(partitions).expect("partitions") {
            assert!(Instant::now() < deadline, "`{topic}` not read to its end");
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    at_end.remove(&message.partition());
                    messages.push(message.detach());
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    at_end.insert(partition);
                }
                Some(Err(error)) => panic!("reading `{topic}`: {error}"),
                None => {}
            }
        }
        drop(consumer);
        messages
    })
    .await
    .expect("reader thread")
}

/// A dead letter as the runtime writes it: the original headers, then the `chalk.*` envelope.
fn letter(stream: &str, source_offset: i64, original: &Record) -> Record {
    let mut letter = Record {
        topic: "orders_dlq".to_owned(),
        ..original.clone()
    };
    letter.partition = None;
    let envelope = [
        (dlq::HEADER_STREAM, stream.to_owned()),
        (dlq::HEADER_PHASE, "resolver".to_owned()),
        (dlq::HEADER_ERROR, "the resolver failed".to_owned()),
        (dlq::HEADER_SOURCE_TOPIC, original.topic.clone()),
        (dlq::HEADER_SOURCE_PARTITION, "0".to_owned()),
        (dlq::HEADER_SOURCE_OFFSET, source_offset.to_string()),
        (dlq::HEADER_SOURCE_TIMESTAMP, "1700000000000".to_owned()),
    ];
    for (name, value) in envelope {
        letter = letter.header(name, value);
    }
    letter
}

/// `dlq replay` of the orders example, on `kafka`.
fn replay(kafka: &MockKafka, extra: &[&str]) -> Finished {
    let out = run(example("orders_dlq")
        .args(["dlq", "replay", "--stream", "orders"])
        .args(extra)
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    out.assert_success();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_sends_each_letter_back_once_with_its_original_headers() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 2);
    let first = Record::bytes("orders", r#"{"id": "o1", "quantity": -1}"#)
        .key("o1")
        .header("trace-id", "t-1")
        .header("origin", "web");
    let second = Record::bytes("orders", "not json");
    let other = Record::bytes("orders", r#"{"id": "o9", "quantity": 1}"#).key("o9");
    let dropped = Record {
        payload: None,
        ..Record::bytes("orders", "").key("o7")
    };
    let letters = [
        letter("orders", 11, &first),
        letter("some_other_stream", 12, &other),
        letter("orders", 13, &second),
        letter("orders", 14, &dropped).header(dlq::HEADER_PAYLOAD_DROPPED, "true"),
    ];
    for letter in &letters {
        kafka
            .produce(&letter.clone().partition(0))
            .await
            .expect("letter produced");
    }

    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        [
            "replayed 2 letters of stream `orders` from `orders_dlq` (orders: 2)",
            "skipped 1 letter whose payload was dropped; the originals are in their source topics:",
            "  orders partition 0 offset 14",
            "left 1 letter of other streams alone",
        ]
    );
    let replayed = read_to_end(&kafka, "orders", 2).await;
    let mut sent = keys_and_payloads(&replayed);
    sent.sort();
    assert_eq!(
        sent,
        [
            (None, "not json".to_owned()),
            (
                Some("o1".to_owned()),
                r#"{"id": "o1", "quantity": -1}"#.to_owned()
            ),
        ]
    );
    for message in &replayed {
        let expected: Vec<(String, String)> = if message.key().is_some() {
            vec![
                ("trace-id".to_owned(), "t-1".to_owned()),
                ("origin".to_owned(), "web".to_owned()),
            ]
        } else {
            Vec::new()
        };
        assert_eq!(headers(message), expected, "original headers, no envelope");
    }

    // The replay group committed past every letter: nothing is sent or reported again.
    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 0 letters of stream `orders` from `orders_dlq`"]
    );
    let after = read_to_end(&kafka, "orders", 2).await;
    assert_eq!(after.len(), 2, "{:?}", keys_and_payloads(&after));
}

#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_dry_run_sends_nothing_and_limit_leaves_the_rest() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    for (offset, id) in [(1, "a"), (2, "b"), (3, "c")] {
        let original = Record::bytes("orders", format!(r#"{{"id": "{id}"}}"#))
            .key(id)
            .header("h", id);
        kafka
            .produce(&letter("orders", offset, &original))
            .await
            .expect("letter produced");
    }

    let out = replay(&kafka, &["--dry-run"]);
    assert_eq!(
        out.stdout_lines(),
        [
            r#"would send to `orders`: key=a headers=[h=a] value={"id": "a"}"#,
            r#"would send to `orders`: key=b headers=[h=b] value={"id": "b"}"#,
            r#"would send to `orders`: key=c headers=[h=c] value={"id": "c"}"#,
            "dry run: would replay 3 letters of stream `orders` from `orders_dlq` (orders: 3); \
             nothing sent or committed",
        ]
    );
    assert!(read_to_end(&kafka, "orders", 1).await.is_empty());

    let out = replay(&kafka, &["--limit", "1"]);
    assert_eq!(
        out.stdout_lines(),
        [
            "replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)",
            "stopped at --limit 1; later letters stay for the next replay",
        ]
    );
    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 2 letters of stream `orders` from `orders_dlq` (orders: 2)"]
    );
    let sent = read_to_end(&kafka, "orders", 1).await;
    assert_eq!(
        keys_and_payloads(&sent)
            .into_iter()
            .map(|(k, _)| k.unwrap_or_default())
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}

#[test]
fn dlq_replay_needs_a_stream_with_a_dead_letter_topic() {
    let out = run(example("favorite_color")
        .args(["dlq", "replay", "--stream", FAVORITE_COLOR])
        .env("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr,
        format!(
            "error: stream `{FAVORITE_COLOR}` has no dead-letter topic; \
             set dead_letter_queue_topic on its source\n"
        )
    );
}
