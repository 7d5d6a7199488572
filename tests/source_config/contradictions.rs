//! Options that contradict each other are refused at start-up, each with its own problem.

use super::*;

#[test]
fn contradictory_security_options_are_each_reported() {
    static SASL_WITHOUT_CREDENTIALS: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::SaslSsl)
        .sasl_mechanism(SaslMechanism::ScramSha256);
    let p = problems(&SASL_WITHOUT_CREDENTIALS, &[]);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p[0].starts_with("option `sasl_username`: security_protocol SASL_SSL with sasl_mechanism SCRAM-SHA-256 needs a username and a password"));
    assert!(p[0].ends_with("call .sasl_username(...) or set KAFKA_SASL_USERNAME"));
    assert!(p[1].starts_with("option `sasl_password`:"));

    static SASL_ON_PLAINTEXT: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .sasl_mechanism(SaslMechanism::ScramSha512)
        .sasl_username("u")
        .sasl_password("p")
        .ssl_ca_file("/ca.pem");
    let p = problems(&SASL_ON_PLAINTEXT, &[]);
    let options: Vec<&str> = p
        .iter()
        .map(|l| l.split('`').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        options,
        [
            "sasl_mechanism",
            "sasl_username",
            "sasl_password",
            "ssl_ca_file"
        ]
    );
    assert!(p[0].contains("security_protocol is PLAINTEXT, which does not use SASL"));
    assert!(p[3].contains("set security_protocol SSL or SASL_SSL"));

    static GSSAPI_WITH_PASSWORD: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(SaslMechanism::Gssapi)
        .sasl_username("u");
    let p = problems(&GSSAPI_WITH_PASSWORD, &[]);
    assert!(p[0].contains("GSSAPI does not use sasl_username or sasl_password"));
    if cfg!(feature = "gssapi") {
        assert_eq!(p.len(), 1, "{p:#?}");
    } else {
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[1].contains("GSSAPI (Kerberos) needs chalk-streams built with its `gssapi` feature")
        );
    }
}

#[test]
fn other_contradictions() {
    static DLQ_IS_SOURCE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("orders")
        .dead_letter_queue_topic("orders");
    let p = problems(&DLQ_IS_SOURCE, &[]);
    assert_eq!(p, ["option `dead_letter_queue_topic`: `orders` is also a topic the stream reads, so failed messages would loop; choose a separate dead-letter topic"]);

    static BAD_ARGS: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .additional_kafka_args(&[
            ("group.id", "mine"),
            ("max.poll.records", "10"),
            ("sasl.jaas.config", "x"),
            ("fetch.min.bytes", "10"),
            ("enable.partition.eof", "true"),
        ]);
    let p = problems(&BAD_ARGS, &[]);
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(p[0].contains("chalk-streams manages `group.id`: set group_id_prefix"));
    assert!(p[1].contains("`max.poll.records`: librdkafka has no such limit"));
    assert!(p[2].contains("JAAS is Java-only; use sasl_username and sasl_password"));
    assert!(p[3].contains(
        "chalk-streams manages `enable.partition.eof`: the runtime waits at the end of each partition"
    ));

    static ENV_ARGS: KafkaSource = KafkaSource::new().bootstrap_server("k:1").topic("t");
    let p = problems(&ENV_ARGS, &[("KAFKA_ADDITIONAL_KAFKA_ARGS", "[1,2]")]);
    assert!(
        p[0].contains("KAFKA_ADDITIONAL_KAFKA_ARGS is not a JSON object"),
        "{p:?}"
    );

    static BAD_URIS: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::Ssl)
        .ssl_keystore_location("https://example.invalid/client.p12")
        .ssl_keystore_password("p")
        .ssl_ca_file("s3://bucket-only");
    let p = problems(&BAD_URIS, &[]);
    assert_eq!(
        p,
        [
            "option `ssl_keystore_location`: `https://example.invalid/client.p12` is a `https://` URI; only s3:// and gs:// URIs are fetched; give a local path, or an s3://bucket/key or gs://bucket/key URI",
            "option `ssl_ca_file`: `s3://bucket-only` names no object: expected s3://bucket/key; give a local path, or an s3://bucket/key or gs://bucket/key URI",
        ]
    );

    static OBJECT_STORE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::Ssl)
        .ssl_keystore_location("s3://bucket/tls/client.p12")
        .ssl_keystore_password("p")
        .ssl_ca_file("gs://bucket/ca.pem");
    let s = resolve(&OBJECT_STORE, &[]).expect("s3:// and gs:// locations are valid");
    assert_eq!(
        s.ssl_keystore_location.as_deref(),
        Some("s3://bucket/tls/client.p12"),
        "fetched at start-up, not when resolved"
    );

    static BAD_PROTOCOL: KafkaSource = KafkaSource::new().bootstrap_server("k:1").topic("t");
    let p = problems(&BAD_PROTOCOL, &[("KAFKA_SECURITY_PROTOCOL", "TLS")]);
    assert_eq!(p, ["option `security_protocol`: KAFKA_SECURITY_PROTOCOL=\"TLS\" is invalid: `TLS` is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; fix or unset KAFKA_SECURITY_PROTOCOL"]);
}

#[test]
fn a_keystore_password_needs_a_keystore_and_tls() {
    static WITHOUT_KEYSTORE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::Ssl)
        .ssl_keystore_password("pw-secret");
    assert_eq!(
        problems(&WITHOUT_KEYSTORE, &[]),
        ["option `ssl_keystore_password`: ssl_keystore_password is set, but there is no keystore to open: ssl_keystore_location is not set; call .ssl_keystore_location(\"client.p12\") or set KAFKA_SSL_KEYSTORE_LOCATION to the PKCS#12 keystore, or remove ssl_keystore_password"]
    );

    static NAMED: KafkaSource = KafkaSource::new()
        .name("payments")
        .bootstrap_server("k:1")
        .topic("t");
    let p = problems(
        &NAMED,
        &[
            ("payments_KAFKA_SECURITY_PROTOCOL", "SSL"),
            ("payments_KAFKA_SSL_KEYSTORE_PASSWORD", "pw-secret"),
        ],
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains("set payments_KAFKA_SSL_KEYSTORE_LOCATION to the PKCS#12 keystore"),
        "{p:?}"
    );
    let s = resolve(
        &NAMED,
        &[
            ("payments_KAFKA_SECURITY_PROTOCOL", "SSL"),
            ("payments_KAFKA_SSL_KEYSTORE_LOCATION", "/etc/client.p12"),
            ("payments_KAFKA_SSL_KEYSTORE_PASSWORD", "pw-secret"),
        ],
    )
    .expect("valid");
    assert_eq!(
        s.ssl_keystore_password.as_ref().map(|p| p.expose()),
        Some("pw-secret")
    );

    static ON_PLAINTEXT: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .ssl_keystore_location("/etc/client.p12")
        .ssl_keystore_password("pw-secret");
    let p = problems(&ON_PLAINTEXT, &[]);
    let options: Vec<&str> = p
        .iter()
        .map(|l| l.split('`').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(options, ["ssl_keystore_location", "ssl_keystore_password"]);
    assert!(p[1].contains("security_protocol is PLAINTEXT, which does not use TLS"));
    for line in &p {
        assert!(!line.contains("pw-secret"), "{line}");
    }

    static IN_ARGS: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .additional_kafka_args(&[("ssl.keystore.password", "pw-secret")]);
    let p = problems(&IN_ARGS, &[]);
    assert_eq!(p, ["option `additional_kafka_args`: key `ssl.keystore.password` cannot be used; chalk-streams manages `ssl.keystore.password`: set ssl_keystore_password"]);
}

#[test]
fn topic_names_kafka_does_not_allow_are_refused_before_any_client_is_made() {
    static SPACED: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("orders")
        .dead_letter_queue_topic("orders dlq");
    let p = problems(&SPACED, &[]);
    assert_eq!(
        p,
        [
            "option `dead_letter_queue_topic`: topic `orders dlq` has ' ', which Kafka does not \
          allow in a topic name: use ASCII letters, digits, `.`, `_` and `-`; name the \
          dead-letter topic as it is on the brokers"
        ],
    );
    static FROM_ENV: KafkaSource = KafkaSource::new().bootstrap_server("k:1");
    let p = problems(&FROM_ENV, &[("KAFKA_TOPIC", "orders,bad/topic")]);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].starts_with("option `topic`: topic `bad/topic` has '/'"),
        "{p:#?}"
    );
}
