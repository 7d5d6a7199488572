//! What chalk-streams knows of librdkafka's property names and values: those it manages
//! itself, the Java names it translates, librdkafka's aliases, the names librdkafka lacks, and
//! the values librdkafka would read otherwise than written.

use rdkafka::config::NativeClientConfig;
use rdkafka::ClientConfig;

use super::secret::{is_secret_property, REDACTED};

/// Properties chalk-streams sets itself; `additional_kafka_args` may not override them.
const MANAGED: &[(&str, &str)] = &[
    ("bootstrap.servers", "set bootstrap_server"),
    ("metadata.broker.list", "set bootstrap_server"),
    (
        "group.id",
        "set group_id_prefix (the group is {prefix}{stream name})",
    ),
    (
        "client.id",
        "set client_id_prefix (the client id is {prefix}{stream name})",
    ),
    ("security.protocol", "set security_protocol"),
    ("sasl.mechanism", "set sasl_mechanism"),
    ("sasl.mechanisms", "set sasl_mechanism"),
    ("sasl.username", "set sasl_username"),
    ("sasl.password", "set sasl_password"),
    ("ssl.keystore.location", "set ssl_keystore_location"),
    ("ssl.keystore.password", "set ssl_keystore_password"),
    ("ssl.ca.location", "set ssl_ca_file"),
    (
        "enable.auto.commit",
        "chalk-streams commits offsets itself, only past processed messages",
    ),
    (
        "enable.auto.offset.store",
        "chalk-streams stores offsets itself, only past processed messages",
    ),
    (
        "enable.partition.eof",
        "the runtime waits at the end of each partition and has no use for end-of-partition \
         events, which a batch taken in one call would also count as a message read",
    ),
];

/// Java / kafka-python names that librdkafka spells differently.
const RENAMED: &[(&str, &str)] = &[
    ("fetch.max.wait.ms", "fetch.wait.max.ms"),
    ("receive.buffer.bytes", "socket.receive.buffer.bytes"),
    ("send.buffer.bytes", "socket.send.buffer.bytes"),
    // Java's timeout of a request to a broker; librdkafka's own `request.timeout.ms` is a
    // producer's acknowledgement timeout, which a consumer ignores.
    ("request.timeout.ms", "socket.timeout.ms"),
];

/// librdkafka's aliases, each with the name chalk-streams keeps for both. One setting under two
/// names would be two properties, which a client applies in no fixed order: a user's
/// `request.required.acks=1` would beat the dead-letter producer's `acks=all` on some starts
/// and lose on others.
const ALIASES: &[(&str, &str)] = &[
    ("metadata.broker.list", "bootstrap.servers"),
    ("request.required.acks", "acks"),
    ("delivery.timeout.ms", "message.timeout.ms"),
    ("queue.buffering.max.ms", "linger.ms"),
    ("message.send.max.retries", "retries"),
    ("max.in.flight", "max.in.flight.requests.per.connection"),
    ("compression.codec", "compression.type"),
    ("sasl.mechanisms", "sasl.mechanism"),
    ("fetch.message.max.bytes", "max.partition.fetch.bytes"),
    (
        "sasl.oauthbearer.client.credentials.client.id",
        "sasl.oauthbearer.client.id",
    ),
    (
        "sasl.oauthbearer.client.credentials.client.secret",
        "sasl.oauthbearer.client.secret",
    ),
];

/// The name chalk-streams keeps for the librdkafka property `key` (see [`ALIASES`]).
pub(super) fn canonical(key: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map_or(key, |(_, kept)| kept)
}

/// Keys Chalk documents that librdkafka has no equivalent for.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "max.poll.records",
        "librdkafka has no such limit; chalk-streams sizes its batches itself, remove it",
    ),
    (
        "consumer.timeout.ms",
        "librdkafka has no consumer timeout; remove it",
    ),
    ("poll.timeout", "librdkafka has no poll timeout; remove it"),
    (
        "exclude.internal.topics",
        "librdkafka never subscribes to internal topics by name; remove it",
    ),
    (
        "key.deserializer",
        "payloads are decoded by the resolver's parameter type; remove it",
    ),
    (
        "value.deserializer",
        "payloads are decoded by the resolver's parameter type; remove it",
    ),
    (
        "ssl.truststore.location",
        "Java trust stores are not supported; use ssl_ca_file with a PEM file",
    ),
    (
        "ssl.keystore.type",
        "the keystore is always PKCS#12; remove it",
    ),
    (
        "sasl.jaas.config",
        "JAAS is Java-only; use sasl_username and sasl_password",
    ),
];

/// Why `key` may not be set at all, even by the program itself: it would store or commit
/// offsets before the messages' outputs are written, or pass over messages (one `group.id` for
/// every stream would put them in one group, each then reading only some of the partitions and
/// resuming from the others' offsets).
pub(crate) fn offset_handling(key: &str) -> Option<&'static str> {
    let key = key.trim();
    [
        "enable.auto.commit",
        "enable.auto.offset.store",
        "enable.partition.eof",
        "group.id",
    ]
    .contains(&key)
    .then(|| MANAGED.iter().find(|(k, _)| *k == key).map(|(_, why)| *why))
    .flatten()
}

/// The librdkafka name and value of an `additional_kafka_args` entry, or why it cannot be used.
pub(crate) fn translate_additional_arg(key: &str, value: String) -> Result<(&str, String), String> {
    let key = key.trim();
    if let Some((_, why)) = MANAGED.iter().find(|(k, _)| *k == key) {
        return Err(format!("chalk-streams manages `{key}`: {why}"));
    }
    if let Some((_, why)) = UNSUPPORTED.iter().find(|(k, _)| *k == key) {
        return Err(format!("`{key}`: {why}"));
    }
    let name = RENAMED
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, renamed)| renamed);
    let name = canonical(name);
    let value = match key {
        // Java allows more than librdkafka's 10 to 300,000 ms (its old default was 305,000).
        "request.timeout.ms" => value
            .trim()
            .parse::<u64>()
            .map_or(value, |ms| ms.clamp(10, 300_000).to_string()),
        _ => value,
    };
    Ok((name, value))
}

/// Why librdkafka refuses `name = value` on its own (a property it does not know, a value not
/// of its form), if it does: said when the source is resolved, rather than when a client is
/// made. A secret's value is not repeated.
pub(crate) fn librdkafka_refuses(name: &str, value: &str) -> Option<String> {
    let mut config = ClientConfig::new();
    config.set(name, value);
    match config.create_native_config() {
        Ok(native) => misread_integer(&native, name, value),
        Err(rdkafka::error::KafkaError::ClientConfig(_, description, _, _)) => {
            let description = if is_secret_property(name) && !value.is_empty() {
                description.replace(value, REDACTED)
            } else {
                description
            };
            Some(format!("librdkafka refuses `{name}`: {description}"))
        }
        Err(other) => Some(format!("librdkafka refuses `{name}`: {other}")),
    }
}

/// Why an integer property's value is refused although librdkafka takes it: librdkafka reads
/// integers as C's `strtol` does, up to the first character that is not a digit, so `5s` is 5
/// (milliseconds, for a `.ms` property) and `010` is 8. Such a value is refused rather than
/// read otherwise than meant. A value that does not begin as a number is one of the property's
/// names for its values, which librdkafka has taken (`acks` = `all`, read as -1).
fn misread_integer(native: &NativeClientConfig, name: &str, value: &str) -> Option<String> {
    let begins_as_a_number = value
        .trim_start()
        .starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
    if !begins_as_a_number {
        return None;
    }
    let read: i64 = native.get(name).ok()?.parse().ok()?;
    if value.trim().parse::<i64>().ok() == Some(read) {
        return None;
    }
    Some(format!(
        "librdkafka refuses `{name}` = `{value}`: it takes a whole number (milliseconds for a \
         `.ms` property, bytes for a `.bytes` one), and would read this one as {read}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::KafkaProperties;

    #[test]
    fn librdkafka_names_what_it_refuses() {
        assert_eq!(librdkafka_refuses("fetch.min.bytes", "1024"), None);
        assert_eq!(
            librdkafka_refuses("foo.bar", "1").as_deref(),
            Some("librdkafka refuses `foo.bar`: No such configuration property: \"foo.bar\"")
        );
        let bad_value = librdkafka_refuses("fetch.min.bytes", "lots").expect("refused");
        assert!(
            bad_value.starts_with("librdkafka refuses `fetch.min.bytes`: Invalid value"),
            "{bad_value}"
        );
    }

    #[test]
    fn a_setting_under_either_of_its_names_is_one_setting() {
        let mut properties = KafkaProperties::default();
        properties.set("request.required.acks", "1");
        properties.set("acks", "all");
        properties.set("message.timeout.ms", "1000");
        properties.set("delivery.timeout.ms", "2000");
        assert_eq!(
            properties.iter().collect::<Vec<_>>(),
            [("acks", "all"), ("message.timeout.ms", "2000")]
        );
        assert_eq!(properties.get("request.required.acks"), Some("all"));
        assert_eq!(
            translate_additional_arg("queue.buffering.max.ms", "7".to_owned()),
            Ok(("linger.ms", "7".to_owned()))
        );
    }

    #[test]
    fn an_integer_librdkafka_would_read_otherwise_is_refused() {
        let with_unit = librdkafka_refuses("fetch.wait.max.ms", "1s").expect("refused");
        assert_eq!(
            with_unit,
            "librdkafka refuses `fetch.wait.max.ms` = `1s`: it takes a whole number (milliseconds \
             for a `.ms` property, bytes for a `.bytes` one), and would read this one as 1"
        );
        let octal = librdkafka_refuses("statistics.interval.ms", "010").expect("refused");
        assert!(octal.ends_with("would read this one as 8"), "{octal}");
        for taken in [
            ("fetch.wait.max.ms", " 100 "),
            ("fetch.wait.max.ms", "-0"),
            ("client.id", "5s"),
            ("group.id", "010"),
            ("enable.ssl.certificate.verification", "0"),
            ("auto.offset.reset", "earliest"),
            ("acks", "all"),
            ("request.required.acks", "all"),
            ("acks", "-1"),
        ] {
            assert_eq!(librdkafka_refuses(taken.0, taken.1), None, "{taken:?}");
        }
    }
}
