//! SSL and SASL_SSL against a real broker: `tansu` behind a `stunnel4` TLS terminator, with
//! certificates made for each test. Each test runs a stream end to end through TLS, or runs the
//! `check` command as a user would and reads its one-line verdict.

use chalk_streams::prelude::*;
use chalk_streams::testing::{KafkaTestClient, Record};
use chalk_streams::FeatureValue;
use rdkafka::Message as _;
use serde::Deserialize;
use serde_json::json;
use suite::tls::{text, ClientCertificates, TlsBroker, KEYSTORE_PASSWORD};
use suite::{env_of, example_check, runtime_for, PATIENCE};

#[derive(Features, Default)]
struct Sensor {
    #[primary]
    id: String,
    celsius: Option<i64>,
}

#[derive(Deserialize)]
struct Reading {
    id: String,
    celsius: i64,
}

/// A named source: every security option comes from the `secure_KAFKA_*` variables the test
/// hands the runtime.
static SECURE: KafkaSource = KafkaSource::new().name("secure").topic(TOPIC);
const TOPIC: &str = "sensor_readings";
const STREAM: &str = "tls::sensor";

#[stream(source = SECURE)]
fn sensor(reading: Reading) -> Sensor {
    Sensor {
        id: reading.id,
        celsius: Some(reading.celsius),
    }
}

/// The favorite_color example's stream and topic, for `check`.
const EXAMPLE_STREAM: &str = "favorite_color::favorite_color";
const EXAMPLE_TOPIC: &str = "user_favorite_color_updates";

/// Creates the topic through TLS, produces three readings, runs the stream with the source
/// variables `env` until it has processed them, and checks what landed in the store.
async fn stream_end_to_end(client: &KafkaTestClient, env: &[(&str, String)]) {
    client
        .create_topic_with_admin(TOPIC, 2)
        .await
        .expect("topic created through TLS");
    let readings = [("s1", 21), ("s2", -4), ("s3", 37)];
    for (id, celsius) in readings {
        client
            .produce(&Record::json(TOPIC, &json!({"id": id, "celsius": celsius})).key(id))
            .await
            .expect("produced through TLS");
    }
    let running = runtime_for(client, &[STREAM])
        .env(env_of(env))
        .start()
        .await
        .expect("the stream starts");
    let (snapshot, done) = running
        .stats(STREAM)
        .expect("the stream runs")
        .wait_for(PATIENCE, |s| s.processed == 3)
        .await;
    assert!(done, "every reading processed through TLS: {snapshot:?}");
    assert_eq!(snapshot.failed, 0);
    let store = running.store();
    for (id, celsius) in readings {
        let sensor = store
            .entity("sensor", id)
            .await
            .expect("store read")
            .unwrap_or_else(|| panic!("sensor {id} stored"));
        assert_eq!(
            sensor.features.get("celsius").map(|f| f.value.clone()),
            Some(FeatureValue::Int(celsius)),
            "{id}"
        );
    }
    running.shutdown().await.expect("clean shutdown");
}

/// Runs `check` and returns its one error line, asserting it failed (within [`PATIENCE`], under
/// its deadline: it recognised the problem) with nothing else printed.
fn check_fails(vars: &[(&str, String)]) -> String {
    let (out, elapsed) = example_check(vars, PATIENCE);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one clear line: {stderr}");
    eprintln!("check failed in {elapsed:?}: {}", lines[0]);
    lines[0].to_owned()
}

/// Runs `check` and asserts it reports the example's stream ok.
fn check_succeeds(vars: &[(&str, String)], brokers: &str) {
    let (out, _) = example_check(vars, PATIENCE);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim_end(),
        format!("ok: stream `{EXAMPLE_STREAM}`: {EXAMPLE_TOPIC} (1 partition) on {brokers}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_with_a_ca_file_verifies_the_broker() {
    let broker = TlsBroker::start(ClientCertificates::NotRequested, &[]);
    let ca = text(&broker.pki.ca_file());
    let client = broker.client(&[("security.protocol", "ssl"), ("ssl.ca.location", &ca)]);
    stream_end_to_end(
        &client,
        &[
            ("secure_KAFKA_SECURITY_PROTOCOL", "SSL".into()),
            ("secure_KAFKA_SSL_CA_FILE", ca.clone()),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_with_a_client_certificate_from_a_password_protected_keystore() {
    let broker = TlsBroker::start(ClientCertificates::Required, &[]);
    let ca = text(&broker.pki.ca_file());
    let keystore = text(&broker.pki.client_keystore());
    let client = broker.client(&[
        ("security.protocol", "ssl"),
        ("ssl.ca.location", &ca),
        ("ssl.keystore.location", &keystore),
        ("ssl.keystore.password", KEYSTORE_PASSWORD),
    ]);
    stream_end_to_end(
        &client,
        &[
            ("secure_KAFKA_SECURITY_PROTOCOL", "SSL".into()),
            ("secure_KAFKA_SSL_CA_FILE", ca.clone()),
            ("secure_KAFKA_SSL_KEYSTORE_LOCATION", keystore.clone()),
            (
                "secure_KAFKA_SSL_KEYSTORE_PASSWORD",
                KEYSTORE_PASSWORD.into(),
            ),
        ],
    )
    .await;

    client
        .create_topic_with_admin(EXAMPLE_TOPIC, 1)
        .await
        .expect("topic created");
    let brokers = broker.bootstrap_servers();
    let with_keystore = [
        ("KAFKA_BOOTSTRAP_SERVER", brokers.clone()),
        ("KAFKA_SECURITY_PROTOCOL", "SSL".into()),
        ("KAFKA_SSL_CA_FILE", ca.clone()),
        ("KAFKA_SSL_KEYSTORE_LOCATION", keystore.clone()),
        ("KAFKA_SSL_KEYSTORE_PASSWORD", KEYSTORE_PASSWORD.into()),
    ];
    check_succeeds(&with_keystore, &brokers);

    // Without a client certificate the terminator ends the handshake: a clear error, fast.
    let problem = check_fails(&with_keystore[..3]);
    assert!(
        problem.starts_with(&format!(
            "error: stream `{EXAMPLE_STREAM}`: the TLS handshake with {brokers} failed: "
        )),
        "{problem}\n{}",
        broker.logs()
    );
    assert!(problem.contains("certificate required"), "{problem}");

    // A wrong keystore password is refused before anything connects, without printing it.
    let mut wrong_password = with_keystore.clone();
    wrong_password[4].1 = "not-the-password".into();
    let problem = check_fails(&wrong_password);
    assert!(!problem.contains("not-the-password"), "{problem}");
    assert!(
        problem.contains("the Kafka client rejected its configuration")
            && problem.contains("PKCS#12")
            && problem.contains("mac verify failure"),
        "{problem}"
    );
}

/// A client certificate given as PEM files through `additional_kafka_args`, as a user of a
/// login the source options do not cover does: the dead-letter producer logs in with it too,
/// so a bad message is dead-lettered and the stream goes on past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_in_additional_kafka_args_is_every_clients_login() {
    const DLQ: &str = "sensor_readings_dlq";
    let broker = TlsBroker::start(ClientCertificates::Required, &[]);
    let ca = text(&broker.pki.ca_file());
    let client = broker.client(&[
        ("security.protocol", "ssl"),
        ("ssl.ca.location", &ca),
        (
            "ssl.keystore.location",
            &text(&broker.pki.client_keystore()),
        ),
        ("ssl.keystore.password", KEYSTORE_PASSWORD),
    ]);
    for topic in [TOPIC, DLQ] {
        client
            .create_topic_with_admin(topic, 1)
            .await
            .expect("topic created through TLS");
    }
    client
        .produce(&Record::bytes(TOPIC, b"not json".as_slice()))
        .await
        .expect("produced");
    client
        .produce(&Record::json(TOPIC, &json!({"id": "s1", "celsius": 3})))
        .await
        .expect("produced");
    let pem_files = json!({
        "ssl.certificate.location": text(&broker.pki.dir().join("client.pem")),
        "ssl.key.location": text(&broker.pki.dir().join("client.key")),
    });
    let running = runtime_for(&client, &[STREAM])
        .env(env_of(&[
            ("secure_KAFKA_SECURITY_PROTOCOL", "SSL".into()),
            ("secure_KAFKA_SSL_CA_FILE", ca.clone()),
            ("secure_KAFKA_ADDITIONAL_KAFKA_ARGS", pem_files.to_string()),
            ("secure_KAFKA_DEAD_LETTER_QUEUE_TOPIC", DLQ.into()),
        ]))
        .start()
        .await
        .expect("the stream starts");
    let (snapshot, done) = running
        .stats(STREAM)
        .expect("the stream runs")
        .wait_for(PATIENCE, |s| s.dead_lettered == 1 && s.processed == 1)
        .await;
    assert!(
        done,
        "the bad message dead-lettered, the good one processed: {snapshot:?}\n{}",
        broker.logs()
    );
    let letters = client
        .read(DLQ, 1, PATIENCE)
        .await
        .expect("dead-letter topic read");
    assert_eq!(
        letters.first().and_then(|l| l.payload()),
        Some(b"not json".as_slice())
    );
    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_with_scram_sha_512() {
    let broker = TlsBroker::start(
        ClientCertificates::NotRequested,
        &[("scram512", "alice", "alice-secret")],
    );
    let ca = text(&broker.pki.ca_file());
    let client = broker.client(&[
        ("security.protocol", "sasl_ssl"),
        ("ssl.ca.location", &ca),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", "alice"),
        ("sasl.password", "alice-secret"),
    ]);
    stream_end_to_end(
        &client,
        &[
            ("secure_KAFKA_SECURITY_PROTOCOL", "SASL_SSL".into()),
            ("secure_KAFKA_SSL_CA_FILE", ca.clone()),
            ("secure_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512".into()),
            ("secure_KAFKA_SASL_USERNAME", "alice".into()),
            ("secure_KAFKA_SASL_PASSWORD", "alice-secret".into()),
        ],
    )
    .await;

    // A wrong password: the broker's own refusal of SaslAuthenticate, reported as such.
    client
        .create_topic_with_admin(EXAMPLE_TOPIC, 1)
        .await
        .expect("topic created");
    let brokers = broker.bootstrap_servers();
    let problem = check_fails(&[
        ("KAFKA_BOOTSTRAP_SERVER", brokers.clone()),
        ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL".into()),
        ("KAFKA_SSL_CA_FILE", ca.clone()),
        ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512".into()),
        ("KAFKA_SASL_USERNAME", "alice".into()),
        ("KAFKA_SASL_PASSWORD", "not-alice-secret".into()),
    ]);
    assert!(
        problem.starts_with(&format!(
            "error: stream `{EXAMPLE_STREAM}`: authentication failed at {brokers} as `alice` (SASL_SSL, SCRAM-SHA-512): "
        )),
        "{problem}\n{}",
        broker.logs()
    );
    assert!(!problem.contains("not-alice-secret"), "{problem}");
}

#[test]
fn a_wrong_ca_fails_check_clearly_within_seconds() {
    let broker = TlsBroker::start(ClientCertificates::NotRequested, &[]);
    let brokers = broker.bootstrap_servers();
    let problem = check_fails(&[
        ("KAFKA_BOOTSTRAP_SERVER", brokers.clone()),
        ("KAFKA_SECURITY_PROTOCOL", "SSL".into()),
        ("KAFKA_SSL_CA_FILE", text(&broker.pki.other_ca_file())),
    ]);
    assert!(
        problem.starts_with(&format!(
            "error: stream `{EXAMPLE_STREAM}`: the TLS handshake with {brokers} failed: "
        )),
        "{problem}"
    );
    assert!(problem.contains("certificate verify failed"), "{problem}");

    // `run` stops there too, where it had warned and started, its consumer retrying for ever.
    let mut run = std::process::Command::new(suite::example_path());
    for (var, _) in std::env::vars() {
        if var.contains("KAFKA_") {
            run.env_remove(var);
        }
    }
    run.arg("run")
        .env("CHALK_STORE", "memory")
        .env("KAFKA_BOOTSTRAP_SERVER", &brokers)
        .env("KAFKA_SECURITY_PROTOCOL", "SSL")
        .env("KAFKA_SSL_CA_FILE", text(&broker.pki.other_ca_file()));
    let output = suite::output_within(&mut run, b"", PATIENCE);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("the TLS handshake with {brokers} failed: ")),
        "{stderr}"
    );
}
