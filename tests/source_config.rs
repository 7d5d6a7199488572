//! Source options: environment resolution for named and unnamed sources, defaults and
//! precedence, start-up contradictions, secrets, and the librdkafka properties produced.

use std::collections::HashMap;
use std::time::Duration;

use chalk_streams::prelude::*;
use chalk_streams::registry::{Registry, RegistryError, StreamDescriptor};
use chalk_streams::resolver::Resolver;
use chalk_streams::source::resolve::Overrides;
use chalk_streams::source::{ResolvedSource, SourceError};
use rdkafka::consumer::BaseConsumer;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |var| map.get(var).cloned()
}

fn resolve(
    source: &KafkaSource,
    pairs: &[(&str, &str)],
) -> Result<ResolvedSource, Vec<SourceError>> {
    source.resolve(&env(pairs), &Overrides::default())
}

fn problems(source: &KafkaSource, pairs: &[(&str, &str)]) -> Vec<String> {
    resolve(source, pairs)
        .expect_err("the source is misconfigured")
        .iter()
        .map(ToString::to_string)
        .collect()
}

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

/// With the `gssapi` feature, a GSSAPI source maps to librdkafka's Kerberos properties and
/// librdkafka (built with Cyrus SASL) accepts them. `scripts/test.sh` runs this with the feature.
#[cfg(feature = "gssapi")]
#[test]
fn gssapi_properties_are_accepted_by_a_build_with_kerberos() {
    static KERBEROS: KafkaSource = KafkaSource::new()
        .bootstrap_server("127.0.0.1:9")
        .topic("t")
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(SaslMechanism::Gssapi)
        .additional_kafka_args(&[
            ("sasl.kerberos.service.name", "kafka"),
            ("sasl.kerberos.principal", "chalk@EXAMPLE.COM"),
            ("sasl.kerberos.keytab", "/etc/chalk.keytab"),
        ]);
    let resolved = resolve(&KERBEROS, &[]).expect("valid with the gssapi feature");
    let p = resolved.consumer_properties("orders");
    assert_eq!(p.get("sasl.mechanism"), Some("GSSAPI"));
    assert_eq!(p.get("sasl.username"), None);
    assert_eq!(p.get("sasl.kerberos.principal"), Some("chalk@EXAMPLE.COM"));
    let created: Result<BaseConsumer, _> = p.to_client_config().create();
    assert!(
        created.is_ok(),
        "librdkafka rejects {p:?}: {:?}",
        created.err()
    );
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
        ]);
    let p = problems(&BAD_ARGS, &[]);
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(p[0].contains("chalk-streams manages `group.id`: set group_id_prefix"));
    assert!(p[1].contains("`max.poll.records`: librdkafka has no such limit"));
    assert!(p[2].contains("JAAS is Java-only; use sasl_username and sasl_password"));

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
fn the_password_never_prints() {
    static SOURCE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::SaslSsl)
        .sasl_mechanism(SaslMechanism::ScramSha256)
        .sasl_username("alice")
        .sasl_password("hunter2-secret");
    let resolved = resolve(&SOURCE, &[]).expect("valid");
    let properties = resolved.consumer_properties("s");
    let printed = [
        format!("{SOURCE:?}"),
        format!("{resolved:?}"),
        format!("{properties:?}"),
        format!("{properties}"),
        format!("{}", resolved.sasl_password.as_ref().expect("set")),
    ];
    for text in printed {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
    assert_eq!(
        properties.get("sasl.password"),
        Some("hunter2-secret"),
        "the client still gets it"
    );

    static KEYSTORE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::Ssl)
        .ssl_keystore_location("/etc/client.p12")
        .ssl_keystore_password("keystore-hunter3");
    let resolved = resolve(&KEYSTORE, &[]).expect("valid");
    let properties = resolved.consumer_properties("s");
    let printed = [
        format!("{KEYSTORE:?}"),
        format!("{resolved:?}"),
        format!("{properties:?}"),
        format!("{properties}"),
    ];
    for text in printed {
        assert!(!text.contains("hunter3"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
    assert_eq!(
        properties.get("ssl.keystore.password"),
        Some("keystore-hunter3"),
        "the client still gets it"
    );
    assert_eq!(
        properties.get("ssl.keystore.location"),
        Some("/etc/client.p12")
    );

    static MISSING_USER: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::SaslSsl)
        .sasl_password("hunter2-secret");
    for line in problems(&MISSING_USER, &[]) {
        assert!(!line.contains("hunter2"), "{line}");
    }
}

/// The properties for each protocol and mechanism, and librdkafka accepting them.
#[test]
fn librdkafka_properties_per_protocol_and_mechanism() {
    let base = || {
        KafkaSource::new()
            .bootstrap_server("127.0.0.1:9")
            .topic("t")
    };
    /// A source and the properties it must produce (`None`: must be absent).
    type Case = (KafkaSource, &'static [(&'static str, Option<&'static str>)]);
    let cases: Vec<Case> = vec![
        (
            base(),
            &[
                ("security.protocol", Some("plaintext")),
                ("sasl.mechanism", None),
                ("sasl.username", None),
            ],
        ),
        (
            base().security_protocol(SecurityProtocol::Ssl),
            &[("security.protocol", Some("ssl")), ("sasl.mechanism", None)],
        ),
        (
            base()
                .security_protocol(SecurityProtocol::SaslPlaintext)
                .sasl_username("u")
                .sasl_password("p"),
            &[
                ("security.protocol", Some("sasl_plaintext")),
                ("sasl.mechanism", Some("PLAIN")),
                ("sasl.username", Some("u")),
                ("sasl.password", Some("p")),
            ],
        ),
        (
            base()
                .security_protocol(SecurityProtocol::SaslPlaintext)
                .sasl_mechanism(SaslMechanism::ScramSha256)
                .sasl_username("u")
                .sasl_password("p"),
            &[("sasl.mechanism", Some("SCRAM-SHA-256"))],
        ),
        (
            base()
                .security_protocol(SecurityProtocol::SaslSsl)
                .sasl_mechanism(SaslMechanism::ScramSha512)
                .sasl_username("u")
                .sasl_password("p"),
            &[
                ("security.protocol", Some("sasl_ssl")),
                ("sasl.mechanism", Some("SCRAM-SHA-512")),
            ],
        ),
        (
            base()
                .security_protocol(SecurityProtocol::SaslSsl)
                .sasl_mechanism(SaslMechanism::OAuthBearer)
                .additional_kafka_args(&[("enable.sasl.oauthbearer.unsecure.jwt", "true")]),
            &[
                ("sasl.mechanism", Some("OAUTHBEARER")),
                ("sasl.username", None),
                ("enable.sasl.oauthbearer.unsecure.jwt", Some("true")),
            ],
        ),
    ];
    for (source, expected) in cases {
        let resolved = resolve(&source, &[]).expect("valid");
        let p = resolved.consumer_properties("orders");
        for (key, value) in expected {
            assert_eq!(p.get(key), *value, "{key} for {source:?}");
        }
        assert_eq!(p.get("group.id"), Some("chalk/orders"));
        assert_eq!(p.get("client.id"), Some("chalk/orders"));
        assert_eq!(p.get("enable.auto.commit"), Some("false"));
        assert_eq!(p.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(p.get("bootstrap.servers"), Some("127.0.0.1:9"));
        // librdkafka validates names, values and that this build supports the mechanism.
        let created: Result<BaseConsumer, _> = p.to_client_config().create();
        assert!(
            created.is_ok(),
            "librdkafka rejects {p:?}: {:?}",
            created.err()
        );
    }
}

fn never(
    _: &chalk_streams::message::RawMessage<'_>,
    _: &mut Vec<chalk_streams::FeatureRow>,
) -> Result<(), chalk_streams::resolver::MessageError> {
    Ok(())
}

static ANY_SOURCE: KafkaSource = KafkaSource::new();
static FIRST: StreamDescriptor = StreamDescriptor::new(
    "orders",
    "app::a",
    &ANY_SOURCE,
    Resolver::Sync(never),
    "src/a.rs",
    3,
);
static SECOND: StreamDescriptor = StreamDescriptor::new(
    "orders",
    "app::b",
    &ANY_SOURCE,
    Resolver::Sync(never),
    "src/b.rs",
    7,
);

#[test]
fn registry_start_up_problems() {
    let empty = Registry::from_descriptors(Vec::new()).expect_err("empty");
    assert_eq!(empty, RegistryError::Empty);
    assert!(empty.to_string().starts_with(
        "no streams are registered: annotate a function with #[stream(source = ...)]"
    ));

    let duplicate = Registry::from_descriptors(vec![&FIRST, &SECOND]).expect_err("duplicate");
    assert_eq!(
        duplicate.to_string(),
        "two streams are named `orders` (src/a.rs:3 and src/b.rs:7): each stream needs its own consumer group; give one of them #[stream(name = \"...\")]"
    );

    let one = Registry::from_descriptors(vec![&FIRST]).expect("valid");
    let unknown = one.select(&["order"]).expect_err("unknown");
    assert_eq!(
        unknown.to_string(),
        "no stream is named `order` (did you mean `orders`?); registered streams: orders"
    );
}
