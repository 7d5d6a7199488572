//! Where each option comes from: defaults, environment variables for named and unnamed sources, explicit values, the bootstrap override, and durations.

use std::time::Duration;

use super::*;

#[test]
fn unnamed_source_defaults() {
    static SOURCE: KafkaSource = KafkaSource::new().bootstrap_server("k:9092").topic("t");
    let s = resolve(&SOURCE, &[]).expect("valid");
    assert_eq!(s.bootstrap_servers, ["k:9092"]);
    assert_eq!(s.topics, ["t"]);
    assert_eq!(s.client_id_prefix, "chalk/");
    assert_eq!(s.group_id_prefix, "chalk/");
    assert_eq!(s.security_protocol, SecurityProtocol::Plaintext);
    assert_eq!(s.sasl_mechanism, SaslMechanism::Plain);
    assert_eq!(s.late_arrival_deadline, LateArrivalDeadline::Infinity);
    assert_eq!(s.dead_letter_queue_topic, None);
    assert_eq!(s.group_id("my_stream"), "chalk/my_stream");
    assert_eq!(s.client_id("my_stream"), "chalk/my_stream");
}

#[test]
fn unnamed_source_reads_kafka_variables() {
    static SOURCE: KafkaSource = KafkaSource::new();
    let s = resolve(
        &SOURCE,
        &[
            ("KAFKA_BOOTSTRAP_SERVER", "a:1, b:2"),
            ("KAFKA_TOPIC", "t1,t2"),
            ("KAFKA_CLIENT_ID_PREFIX", "svc/"),
            ("KAFKA_GROUP_ID_PREFIX", "team/"),
            ("KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
            ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            ("KAFKA_SASL_USERNAME", "alice"),
            ("KAFKA_SASL_PASSWORD", "s3cret"),
            ("KAFKA_SSL_CA_FILE", "/etc/ca.pem"),
            ("KAFKA_SSL_KEYSTORE_LOCATION", "/etc/client.p12"),
            ("KAFKA_SSL_KEYSTORE_PASSWORD", "keystore-secret"),
            ("KAFKA_LATE_ARRIVAL_DEADLINE", "1h30m"),
            ("KAFKA_DEAD_LETTER_QUEUE_TOPIC", "dlq"),
            (
                "KAFKA_ADDITIONAL_KAFKA_ARGS",
                r#"{"fetch.max.wait.ms": 100, "check.crcs": true}"#,
            ),
            (
                "user_updates_KAFKA_TOPIC",
                "ignored: the source has no name",
            ),
        ],
    )
    .expect("valid");
    assert_eq!(s.bootstrap_servers, ["a:1", "b:2"]);
    assert_eq!(s.topics, ["t1", "t2"]);
    assert_eq!(s.client_id("x"), "svc/x");
    assert_eq!(s.group_id("x"), "team/x");
    assert_eq!(s.security_protocol, SecurityProtocol::SaslSsl);
    assert_eq!(s.sasl_mechanism, SaslMechanism::ScramSha512);
    assert_eq!(s.sasl_username.as_deref(), Some("alice"));
    assert_eq!(s.sasl_password.as_ref().map(|p| p.expose()), Some("s3cret"));
    assert_eq!(s.ssl_ca_file.as_deref(), Some("/etc/ca.pem"));
    assert_eq!(s.ssl_keystore_location.as_deref(), Some("/etc/client.p12"));
    assert_eq!(
        s.ssl_keystore_password.as_ref().map(|p| p.expose()),
        Some("keystore-secret")
    );
    assert_eq!(
        s.late_arrival_deadline,
        LateArrivalDeadline::Within(Duration::from_secs(90 * 60))
    );
    assert_eq!(s.dead_letter_queue_topic.as_deref(), Some("dlq"));
    assert_eq!(
        s.additional_kafka_args,
        [
            ("check.crcs".to_owned(), "true".to_owned()),
            ("fetch.wait.max.ms".to_owned(), "100".to_owned())
        ],
        "JSON values become strings and Java names are translated"
    );
}

#[test]
fn named_source_reads_its_own_variables_and_explicit_values_win() {
    static SOURCE: KafkaSource = KafkaSource::new()
        .name("user_updates")
        .topic("explicit_topic");
    let s = resolve(
        &SOURCE,
        &[
            ("user_updates_KAFKA_BOOTSTRAP_SERVER", "named:9092"),
            ("user_updates_KAFKA_TOPIC", "env_topic"),
            ("KAFKA_BOOTSTRAP_SERVER", "unnamed:9092"),
            ("KAFKA_GROUP_ID_PREFIX", "unnamed/"),
        ],
    )
    .expect("valid");
    assert_eq!(s.name.as_deref(), Some("user_updates"));
    assert_eq!(
        s.bootstrap_servers,
        ["named:9092"],
        "the named variable, not KAFKA_*"
    );
    assert_eq!(
        s.topics,
        ["explicit_topic"],
        "explicit values win over the environment"
    );
    assert_eq!(
        s.group_id_prefix, "chalk/",
        "KAFKA_* does not apply to a named source"
    );
}

#[test]
fn named_source_with_missing_variables_names_them() {
    static SOURCE: KafkaSource = KafkaSource::new().name("payments");
    let p = problems(&SOURCE, &[]);
    assert_eq!(
        p,
        [
            "option `bootstrap_server`: named source `payments` has no bootstrap server: payments_KAFKA_BOOTSTRAP_SERVER is not set; call .bootstrap_server(\"host:port\") or set payments_KAFKA_BOOTSTRAP_SERVER",
            "option `topic`: named source `payments` has no topic: payments_KAFKA_TOPIC is not set; call .topic(\"name\") or set payments_KAFKA_TOPIC",
        ]
    );
}

#[test]
fn empty_variables_count_as_unset() {
    static SOURCE: KafkaSource = KafkaSource::new().topic("t");
    let p = problems(&SOURCE, &[("KAFKA_BOOTSTRAP_SERVER", "  ")]);
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("option `bootstrap_server`: no bootstrap server is set"));
}

#[test]
fn bootstrap_override_replaces_every_source_broker() {
    static SOURCE: KafkaSource = KafkaSource::new().bootstrap_server("far:9092").topic("t");
    let overrides = Overrides {
        bootstrap_servers: Some("127.0.0.1:1234".into()),
        ..Overrides::default()
    };
    let s = SOURCE.resolve(&env(&[]), &overrides).expect("valid");
    assert_eq!(s.bootstrap_servers, ["127.0.0.1:1234"]);
}

#[test]
fn duration_strings_and_durations() {
    static FROM_DURATION: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .late_arrival_deadline(Duration::from_secs(1800));
    static FROM_STRING: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .late_arrival_deadline_str("30m");
    static INFINITE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .late_arrival_deadline_str("infinity");
    let thirty = LateArrivalDeadline::Within(Duration::from_secs(1800));
    assert_eq!(
        resolve(&FROM_DURATION, &[])
            .expect("valid")
            .late_arrival_deadline,
        thirty
    );
    assert_eq!(
        resolve(&FROM_STRING, &[])
            .expect("valid")
            .late_arrival_deadline,
        thirty
    );
    assert_eq!(
        resolve(&INFINITE, &[])
            .expect("valid")
            .late_arrival_deadline,
        LateArrivalDeadline::Infinity
    );
    static ENV_ONLY: KafkaSource = KafkaSource::new().bootstrap_server("k:1").topic("t");
    let p = problems(&ENV_ONLY, &[("KAFKA_LATE_ARRIVAL_DEADLINE", "soon")]);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with(
            "option `late_arrival_deadline`: KAFKA_LATE_ARRIVAL_DEADLINE=\"soon\" is invalid"
        ),
        "{}",
        p[0]
    );
}

#[test]
fn an_empty_prefix_in_code_is_used_as_given() {
    // The group of an existing consumer is then found, not replaced by `chalk/{stream}`, which
    // would read the topic again from the start.
    static SOURCE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .group_id_prefix("")
        .client_id_prefix("");
    let s = resolve(&SOURCE, &[("KAFKA_GROUP_ID_PREFIX", "env/")]).expect("valid");
    assert_eq!(s.group_id("orders"), "orders");
    assert_eq!(s.client_id("orders"), "orders");
    static UNSET: KafkaSource = KafkaSource::new().bootstrap_server("k:1").topic("t");
    let s = resolve(&UNSET, &[("KAFKA_GROUP_ID_PREFIX", "  ")]).expect("valid");
    assert_eq!(
        s.group_id("orders"),
        "chalk/orders",
        "a blank variable is unset"
    );
}

#[test]
fn a_plaintext_override_drops_every_security_setting() {
    // `run --embedded`: the in-process cluster takes plain connections only, and a test of the
    // main command needs no credentials.
    static SECURE: KafkaSource = KafkaSource::new()
        .bootstrap_server("far:9093")
        .topic("t")
        .security_protocol(SecurityProtocol::SaslSsl)
        .sasl_mechanism(SaslMechanism::ScramSha512)
        .sasl_username("alice")
        .ssl_ca_file("s3://bucket/ca.pem")
        .additional_kafka_args(&[
            ("ssl.certificate.location", "/etc/client.pem"),
            ("fetch.wait.max.ms", "10"),
        ]);
    let overrides = Overrides {
        bootstrap_servers: Some("127.0.0.1:1234".into()),
        plaintext: true,
    };
    let s = SECURE
        .resolve(&env(&[]), &overrides)
        .expect("no password needed");
    assert_eq!(s.security_protocol, SecurityProtocol::Plaintext);
    assert_eq!((s.sasl_username, s.ssl_ca_file), (None, None));
    assert_eq!(
        s.additional_kafka_args,
        [("fetch.wait.max.ms".to_owned(), "10".to_owned())]
    );
}
