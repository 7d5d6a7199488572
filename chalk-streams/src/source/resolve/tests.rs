//! Resolving as far as it goes: a problem names its option, and the others keep their values.

use super::*;

fn unresolved(source: &KafkaSource, env: EnvLookup<'_>) -> (ResolvedSource, Vec<&'static str>) {
    let (resolved, errors) = source.resolve_as_far_as_it_goes(env, &Overrides::default());
    (resolved, errors.iter().map(|e| e.option).collect())
}

#[test]
fn a_problem_names_its_option_and_the_others_keep_their_values() {
    static SOURCE: KafkaSource = KafkaSource::new().topic("updates");
    let env = |var: &str| match var {
        "KAFKA_LATE_ARRIVAL_DEADLINE" => Some("soon".to_owned()),
        "KAFKA_SECURITY_PROTOCOL" => Some("bogus".to_owned()),
        _ => None,
    };
    let (resolved, options) = unresolved(&SOURCE, &env);
    assert_eq!(
        options,
        [
            "bootstrap_server",
            "security_protocol",
            "late_arrival_deadline"
        ]
    );
    assert_eq!(resolved.topics, ["updates"]);
    assert_eq!(resolved.group_id_prefix, "chalk/");
    assert_eq!(resolved.dead_letter_queue_topic, None, "none set");

    let env = |var: &str| (var == "KAFKA_DEAD_LETTER_QUEUE_TOPIC").then(|| "updates".to_owned());
    let (_, options) = unresolved(&SOURCE, &env);
    assert!(
        options.contains(&"dead_letter_queue_topic"),
        "its own topic: refused"
    );
}

#[test]
fn texts_from_the_environment_lose_the_spaces_around_them_but_secrets_keep_theirs() {
    static SOURCE: KafkaSource = KafkaSource::new().topic("updates");
    let env = |var: &str| {
        let value = match var {
            "KAFKA_BOOTSTRAP_SERVER" => "127.0.0.1:9092",
            "KAFKA_SECURITY_PROTOCOL" => "SASL_PLAINTEXT",
            "KAFKA_GROUP_ID_PREFIX" => "team/ ",
            "KAFKA_SASL_USERNAME" => " alice\n",
            "KAFKA_SASL_PASSWORD" => "pass word ",
            "KAFKA_DEAD_LETTER_QUEUE_TOPIC" => "updates_dlq ",
            _ => return None,
        };
        Some(value.to_owned())
    };
    let (resolved, options) = unresolved(&SOURCE, &env);
    assert_eq!(options, Vec::<&str>::new());
    assert_eq!(resolved.group_id_prefix, "team/");
    assert_eq!(resolved.sasl_username.as_deref(), Some("alice"));
    assert_eq!(
        resolved.sasl_password.as_ref().map(Secret::expose),
        Some("pass word ")
    );
    assert_eq!(
        resolved.dead_letter_queue_topic.as_deref(),
        Some("updates_dlq")
    );
}

/// What librdkafka would take otherwise than written, or pass over without a word, is refused:
/// a password that begins with white space (librdkafka removes it), a keystore without its
/// password, TLS or SASL properties for a protocol without them, and OAUTHBEARER without the
/// only tokens this build can make.
#[test]
fn settings_librdkafka_would_cut_or_ignore_are_refused() {
    static SOURCE: KafkaSource = KafkaSource::new().topic("updates");
    fn refused(vars: &[(&str, &str)]) -> Vec<&'static str> {
        let env = |var: &str| {
            std::iter::once(("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:9092"))
                .chain(vars.iter().copied())
                .find(|(name, _)| *name == var)
                .map(|(_, value)| value.to_owned())
        };
        unresolved(&SOURCE, &env).1
    }
    let sasl = [
        ("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
        ("KAFKA_SASL_USERNAME", "alice"),
    ];
    assert_eq!(
        refused(&[sasl[0], sasl[1], ("KAFKA_SASL_PASSWORD", " secret")]),
        ["sasl_password"]
    );
    assert_eq!(
        refused(&[
            ("KAFKA_SECURITY_PROTOCOL", "SSL"),
            ("KAFKA_SSL_KEYSTORE_LOCATION", "client.p12"),
        ]),
        ["ssl_keystore_password"]
    );
    assert_eq!(
        refused(&[(
            "KAFKA_ADDITIONAL_KAFKA_ARGS",
            r#"{"ssl.certificate.location": "c.pem", "sasl.kerberos.service.name": "kafka"}"#
        )]),
        ["additional_kafka_args", "additional_kafka_args"],
        "a client certificate and a Kerberos name on a plain connection"
    );
    let oauth = [
        ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        ("KAFKA_SASL_MECHANISM", "OAUTHBEARER"),
    ];
    assert_eq!(refused(&oauth), ["sasl_mechanism"]);
    assert_eq!(
        refused(&[
            oauth[0],
            oauth[1],
            (
                "KAFKA_ADDITIONAL_KAFKA_ARGS",
                r#"{"enable.sasl.oauthbearer.unsecure.jwt": "true"}"#
            ),
        ]),
        Vec::<&str>::new()
    );
}

#[test]
fn a_topic_named_twice_is_read_once() {
    static SOURCE: KafkaSource = KafkaSource::new();
    let env = |var: &str| match var {
        "KAFKA_TOPIC" => Some("orders, refunds,orders".to_owned()),
        _ => None,
    };
    let (resolved, _) = unresolved(&SOURCE, &env);
    assert_eq!(resolved.topics, ["orders", "refunds"]);
}
