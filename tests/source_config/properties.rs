//! What reaches librdkafka: secrets that never print, the properties for each protocol and
//! mechanism, and the Kerberos ones with the `gssapi` feature.

use rdkafka::consumer::BaseConsumer;

use super::*;

#[test]
fn secrets_in_additional_kafka_args_never_print() {
    static SOURCE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::SaslSsl)
        .sasl_mechanism(SaslMechanism::OAuthBearer)
        // Properties this build of librdkafka takes (its OIDC ones need libcurl).
        .additional_kafka_args(&[
            ("enable.sasl.oauthbearer.unsecure.jwt", "true"),
            (
                "sasl.oauthbearer.config",
                "principal=chalk extension_token=oidc-hunter4",
            ),
        ]);
    let resolved = resolve(&SOURCE, &[]).expect("valid");
    let properties = resolved.consumer_properties("s");
    let printed = [
        format!("{SOURCE:?}"),
        format!("{resolved:?}"),
        format!("{properties:?}"),
        format!("{properties}"),
    ];
    for text in printed {
        assert!(!text.contains("hunter4"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
        assert!(
            text.contains("enable.sasl.oauthbearer.unsecure.jwt"),
            "{text}"
        );
    }
    assert_eq!(
        properties.get("sasl.oauthbearer.config"),
        Some("principal=chalk extension_token=oidc-hunter4"),
        "the client still gets it"
    );
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

/// Every client of a source logs in with its `additional_kafka_args`; each gets those it
/// reads, so that librdkafka has no property to ignore with a warning.
#[test]
fn additional_kafka_args_reach_consumer_and_producers_alike() {
    static SOURCE: KafkaSource = KafkaSource::new()
        .bootstrap_server("127.0.0.1:9")
        .topic("t")
        .security_protocol(SecurityProtocol::Ssl)
        .additional_kafka_args(&[
            ("ssl.certificate.location", "/etc/client.pem"),
            ("ssl.key.location", "/etc/client.key"),
            ("fetch.wait.max.ms", "10"),
            ("compression.type", "lz4"),
            // Java's name, translated.
            ("request.timeout.ms", "20000"),
        ]);
    let resolved = resolve(&SOURCE, &[]).expect("valid");
    let consumer = resolved.consumer_properties("s");
    let producer = resolved.producer_properties();
    for p in [&consumer, &producer] {
        assert_eq!(p.get("ssl.certificate.location"), Some("/etc/client.pem"));
        assert_eq!(p.get("ssl.key.location"), Some("/etc/client.key"));
        assert_eq!(p.get("socket.timeout.ms"), Some("20000"));
        assert_eq!(p.get("request.timeout.ms"), None);
    }
    assert_eq!(consumer.get("fetch.wait.max.ms"), Some("10"));
    assert_eq!(consumer.get("compression.type"), None);
    assert_eq!(producer.get("fetch.wait.max.ms"), None);
    assert_eq!(producer.get("compression.type"), Some("lz4"));
    assert_eq!(producer.get("group.id"), None);

    // Java's old default, beyond librdkafka's range, is brought within it.
    static JAVA_TIMEOUT: KafkaSource = KafkaSource::new()
        .bootstrap_server("127.0.0.1:9")
        .topic("t")
        .additional_kafka_args(&[("request.timeout.ms", "305000")]);
    let consumer = resolve(&JAVA_TIMEOUT, &[])
        .expect("valid")
        .consumer_properties("s");
    assert_eq!(consumer.get("socket.timeout.ms"), Some("300000"));
    let created: Result<BaseConsumer, _> = consumer.to_client_config().create();
    assert!(created.is_ok(), "{:?}", created.err());
}

#[test]
fn inline_private_keys_never_print() {
    static SOURCE: KafkaSource = KafkaSource::new()
        .bootstrap_server("k:1")
        .topic("t")
        .security_protocol(SecurityProtocol::Ssl)
        .additional_kafka_args(&[
            ("ssl.certificate.pem", "-----BEGIN CERTIFICATE-----"),
            ("ssl.key.pem", "-----BEGIN PRIVATE KEY-----hunter5"),
        ]);
    let resolved = resolve(&SOURCE, &[]).expect("valid");
    let properties = resolved.consumer_properties("s");
    for text in [
        format!("{SOURCE:?}"),
        format!("{resolved:?}"),
        format!("{properties:?}"),
        format!("{properties}"),
    ] {
        assert!(!text.contains("hunter5"), "{text}");
        assert!(text.contains("BEGIN CERTIFICATE"), "{text}");
    }
}
