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
            "KAFKA_SASL_PASSWORD" => " pass word ",
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
        Some(" pass word ")
    );
    assert_eq!(
        resolved.dead_letter_queue_topic.as_deref(),
        Some("updates_dlq")
    );
}
