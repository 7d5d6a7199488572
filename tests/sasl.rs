//! SASL on a real broker: `tansu` with authentication required, SCRAM-SHA-256 and SCRAM-SHA-512
//! logins running a stream end to end, and a wrong password stopping start-up with one clear
//! error.

use std::sync::Arc;

use chalk_streams::prelude::*;
use chalk_streams::store::MemoryStore;
use chalk_streams::testing::{KafkaTestClient, Record};
use chalk_streams::{Error, FeatureValue, Runtime};
use serde::Deserialize;
use serde_json::json;
use suite::tansu::{Storage, Tansu};
use suite::{user_color, PATIENCE};

const TOPIC: &str = "secure_colors";
const STREAM: &str = "secure_colors";

static SECURE: KafkaSource = KafkaSource::new().name("secure").topic(TOPIC);

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<String>,
}

#[derive(Deserialize)]
struct Update {
    user_id: String,
    favorite_color: String,
}

#[stream(source = SECURE, name = "secure_colors")]
fn secure_colors(update: Update) -> User {
    User {
        uid: update.user_id,
        favorite_color: Some(update.favorite_color),
    }
}

/// A user of the broker: SASL mechanism (librdkafka's name and tansu's), name, password.
struct Login {
    mechanism: &'static str,
    tansu_mechanism: &'static str,
    user: &'static str,
    password: &'static str,
}

const ALICE: Login = Login {
    mechanism: "SCRAM-SHA-256",
    tansu_mechanism: "scram256",
    user: "alice",
    password: "alice-secret-256",
};
const BOB: Login = Login {
    mechanism: "SCRAM-SHA-512",
    tansu_mechanism: "scram512",
    user: "bob",
    password: "bob-secret-512",
};

impl Login {
    /// The librdkafka properties of a client logging in as this user.
    fn properties(&self, password: &'static str) -> [(&'static str, &'static str); 4] {
        [
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanism", self.mechanism),
            ("sasl.username", self.user),
            ("sasl.password", password),
        ]
    }

    /// The environment of a process whose `secure` source logs in as this user.
    fn env(&self, password: &'static str) -> impl Fn(&str) -> Option<String> + Send + Sync {
        let mechanism = self.mechanism;
        let user = self.user;
        move |var| {
            match var {
                "secure_KAFKA_SECURITY_PROTOCOL" => Some("SASL_PLAINTEXT"),
                "secure_KAFKA_SASL_MECHANISM" => Some(mechanism),
                "secure_KAFKA_SASL_USERNAME" => Some(user),
                "secure_KAFKA_SASL_PASSWORD" => Some(password),
                _ => None,
            }
            .map(str::to_owned)
        }
    }
}

/// A broker that requires SASL, with the topic and both users. tansu creates users only while
/// it runs without authentication, so it is started plain, given its users and topic, then
/// restarted with authentication on the same storage file.
async fn broker_with_users() -> Tansu {
    let mut tansu = Tansu::start_with(Storage::Sqlite);
    KafkaTestClient::connect(&tansu.bootstrap_servers(), &[])
        .expect("client")
        .create_topic_with_admin(TOPIC, 2)
        .await
        .expect("topic created");
    for login in [&ALICE, &BOB] {
        tansu.create_user(login.tansu_mechanism, login.user, login.password);
    }
    tansu.restart(true);
    tansu
}

fn runtime(tansu: &Tansu, login: &Login, password: &'static str) -> Runtime {
    Runtime::from_registry()
        .expect("registered")
        .only(&[STREAM])
        .expect("the stream exists")
        .bootstrap_servers(tansu.bootstrap_servers())
        .env(login.env(password))
        .kafka_property("session.timeout.ms", "6000")
        .kafka_property("heartbeat.interval.ms", "500")
}

/// Produces as `login`, runs the stream as `login` until it has processed everything, and checks
/// the features and the committed offsets, `committed_before` plus what it produced: the group
/// goes on where the earlier run left it, processing only the new messages.
async fn stream_runs_as(tansu: &Tansu, login: &Login, color: &str, committed_before: i64) {
    let client = KafkaTestClient::connect(
        &tansu.bootstrap_servers(),
        &login.properties(login.password),
    )
    .expect("client");
    let users = 20;
    let records: Vec<Record> = (0..users)
        .map(|i| {
            Record::json(
                TOPIC,
                &json!({"user_id": format!("u{i}"), "favorite_color": color}),
            )
            .key(format!("u{i}"))
        })
        .collect();
    client
        .produce_all(&records)
        .await
        .expect("produced over SASL");

    let store = Arc::new(MemoryStore::new());
    let running = runtime(tansu, login, login.password)
        .store(store.clone())
        .start()
        .await
        .unwrap_or_else(|e| panic!("starts as {}: {e}", login.user));
    let stats = running.stats(STREAM).expect("stream runs");
    let (snapshot, done) = stats.wait_for(PATIENCE, |s| s.processed >= users).await;
    assert!(
        done,
        "{} processed every message: {snapshot:?}",
        login.mechanism
    );
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        stats.snapshot().processed,
        users,
        "only the messages after the group's offsets, as {}",
        login.user
    );
    for i in 0..users {
        assert_eq!(
            user_color(&*store, &format!("u{i}")).await,
            Some(FeatureValue::String(color.into())),
            "u{i} as {}",
            login.user
        );
    }
    let committed: i64 = client
        .committed_offsets("chalk/secure_colors", TOPIC, 2)
        .await
        .expect("committed offsets")
        .iter()
        .map(|o| o.unwrap_or(0))
        .sum();
    assert_eq!(
        committed,
        committed_before + i64::try_from(users).expect("small"),
        "offsets committed as {}",
        login.user
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_sha_256_and_scram_sha_512_logins_run_a_stream() {
    let tansu = broker_with_users().await;
    stream_runs_as(&tansu, &ALICE, "red", 0).await;
    // The same group goes on where alice left it: bob's run processes only bob's messages.
    stream_runs_as(&tansu, &BOB, "blue", 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stops_start_up_with_one_clear_error() {
    let tansu = broker_with_users().await;
    for login in [&ALICE, &BOB] {
        let error = match runtime(&tansu, login, "not-the-password").start().await {
            Ok(_) => panic!("{} logged in with a wrong password", login.user),
            Err(error) => error,
        };
        assert!(
            matches!(error, Error::Check(ref problems) if problems.len() == 1),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "stream `{STREAM}`: authentication failed at {} as `{}` (SASL_PLAINTEXT, {}): \
                 SASL authentication error: SASL SCRAM authentication failed: broker responded \
                 with invalid-proof",
                tansu.bootstrap_servers(),
                login.user,
                login.mechanism
            )
        );
        assert!(!error.to_string().contains("not-the-password"));
    }
}

/// tansu accepts only SCRAM when it requires authentication: a PLAIN login is refused, and
/// start-up says so clearly. (PLAIN's librdkafka properties are checked in source_config.rs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mechanism_the_broker_refuses_stops_start_up_clearly() {
    let tansu = broker_with_users().await;
    let plain = Login {
        mechanism: "PLAIN",
        ..ALICE
    };
    let error = match runtime(&tansu, &plain, ALICE.password).start().await {
        Ok(_) => panic!("tansu accepted PLAIN"),
        Err(error) => error.to_string(),
    };
    let expected = format!(
        "stream `{STREAM}`: authentication failed at {} as `alice` (SASL_PLAINTEXT, PLAIN): ",
        tansu.bootstrap_servers()
    );
    assert!(error.starts_with(&expected), "{error}");
    assert!(!error.contains(ALICE.password), "{error}");
}

/// `run`, as a user runs it, with a wrong password: it exits with one error line, the refused
/// login's, and none of librdkafka's retry reports reach the terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_a_wrong_password_exits_with_one_line() {
    let tansu = broker_with_users().await;
    let mut command = std::process::Command::new(suite::example_path());
    for (var, _) in std::env::vars() {
        if var.contains("KAFKA_") || var == "CHALK_STORE" {
            command.env_remove(var);
        }
    }
    command
        .arg("run")
        .env("KAFKA_BOOTSTRAP_SERVER", tansu.bootstrap_servers())
        .env("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
        .env("KAFKA_SASL_MECHANISM", ALICE.mechanism)
        .env("KAFKA_SASL_USERNAME", ALICE.user)
        .env("KAFKA_SASL_PASSWORD", "not-the-password")
        .env("CHALK_STORE", "memory")
        .env("RUST_LOG", "warn");
    // Within PATIENCE as a guard against a hang: the error line below tells a refused login
    // from a wait that ran out.
    let output = suite::output_within(&mut command, b"", PATIENCE);
    let status = output.status;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: stream `favorite_color::favorite_color`: authentication failed at {} as \
             `alice` (SASL_PLAINTEXT, SCRAM-SHA-256): SASL authentication error: SASL SCRAM \
             authentication failed: broker responded with invalid-proof\n",
            tansu.bootstrap_servers()
        )
    );
}
