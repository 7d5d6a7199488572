//! Options that contradict one another: a SASL protocol without the credentials its mechanism
//! needs (or with credentials it does not use, GSSAPI without its feature, OAUTHBEARER without
//! the tokens this build can make), SASL or TLS options (also in `additional_kafka_args`)
//! without a protocol that uses them, a keystore without its password or the other way round,
//! a password librdkafka would cut, a remote file location that does not parse, a dead-letter
//! topic the stream also reads.

use super::{ResolvedSource, Resolver, SourceError};
use crate::source::remote::RemoteLocation;
use crate::source::SaslMechanism;

/// Records in `r` every contradiction among `s`'s options (`mechanism_set`: whether the SASL
/// mechanism was given rather than defaulted).
pub(super) fn check_consistency(r: &mut Resolver<'_>, s: &ResolvedSource, mechanism_set: bool) {
    let protocol = s.security_protocol;
    let protocol_var = r.var("security_protocol");
    if protocol.uses_sasl() {
        if s.sasl_mechanism.uses_password() {
            for (option, present) in [
                ("sasl_username", s.sasl_username.is_some()),
                ("sasl_password", s.sasl_password.is_some()),
            ] {
                if !present {
                    let var = r.var(option);
                    r.errors.push(SourceError::new(
                        option,
                        format!(
                            "security_protocol {protocol} with sasl_mechanism {} needs a username and a password, and {option} is not set",
                            s.sasl_mechanism
                        ),
                        format!("call .{option}(...) or set {var}"),
                    ));
                }
            }
        } else if s.sasl_username.is_some() || s.sasl_password.is_some() {
            r.errors.push(SourceError::new(
                "sasl_mechanism",
                format!(
                    "sasl_mechanism {} does not use sasl_username or sasl_password, but they are set",
                    s.sasl_mechanism
                ),
                "remove sasl_username and sasl_password, or use PLAIN or SCRAM-SHA-256/512",
            ));
        }
        let unsecured_tokens = additional_arg(s, "enable.sasl.oauthbearer.unsecure.jwt")
            .is_some_and(|value| ["true", "t", "1"].contains(&value.to_ascii_lowercase().as_str()));
        if s.sasl_mechanism == SaslMechanism::OAuthBearer && !unsecured_tokens {
            r.errors.push(SourceError::new(
                "sasl_mechanism",
                "sasl_mechanism OAUTHBEARER needs a token, and this build can only make \
                 librdkafka's unsecured ones (it has no OIDC): without \
                 enable.sasl.oauthbearer.unsecure.jwt the client waits for a token for ever, \
                 with no error",
                "add {\"enable.sasl.oauthbearer.unsecure.jwt\": \"true\"} and the token's \
                 sasl.oauthbearer.config to additional_kafka_args (for a broker that takes \
                 unsecured tokens), or use SCRAM-SHA-256 or SCRAM-SHA-512",
            ));
        }
        if s.sasl_mechanism == SaslMechanism::Gssapi && !cfg!(feature = "gssapi") {
            r.errors.push(SourceError::new(
                "sasl_mechanism",
                "GSSAPI (Kerberos) needs chalk-streams built with its `gssapi` feature",
                "enable the `gssapi` feature (it needs Debian's libsasl2-dev and libsasl2-modules-gssapi-mit), or use SCRAM-SHA-256, SCRAM-SHA-512, PLAIN or OAUTHBEARER",
            ));
        }
    } else {
        let sasl_options = [
            ("sasl_mechanism", mechanism_set),
            ("sasl_username", s.sasl_username.is_some()),
            ("sasl_password", s.sasl_password.is_some()),
        ];
        for (option, present) in sasl_options {
            if present {
                r.errors.push(SourceError::new(
                    option,
                    format!("{option} is set, but security_protocol is {protocol}, which does not use SASL"),
                    format!("set security_protocol SASL_PLAINTEXT or SASL_SSL (or {protocol_var}), or remove {option}"),
                ));
            }
        }
    }
    if !protocol.uses_tls() {
        for (option, present) in [
            ("ssl_keystore_location", s.ssl_keystore_location.is_some()),
            ("ssl_keystore_password", s.ssl_keystore_password.is_some()),
            ("ssl_ca_file", s.ssl_ca_file.is_some()),
        ] {
            if present {
                r.errors.push(SourceError::new(
                    option,
                    format!("{option} is set, but security_protocol is {protocol}, which does not use TLS"),
                    format!("set security_protocol SSL or SASL_SSL (or {protocol_var}), or remove {option}"),
                ));
            }
        }
    }
    // Left for librdkafka, they would be passed over without a word: TLS files on a plain
    // connection (no client certificate sent), a login never made.
    for (name, _) in &s.additional_kafka_args {
        let (uses, kind) = if name.starts_with("ssl.") {
            (protocol.uses_tls(), "TLS")
        } else if name.starts_with("sasl.") {
            (protocol.uses_sasl(), "SASL")
        } else {
            continue;
        };
        if !uses {
            r.errors.push(SourceError::new(
                "additional_kafka_args",
                format!("`{name}` is set, but security_protocol is {protocol}, which does not use {kind}"),
                format!("set the security_protocol that uses it (or {protocol_var}), or remove `{name}`"),
            ));
        }
    }
    if s.ssl_keystore_location.is_some() && s.ssl_keystore_password.is_none() {
        let var = r.var("ssl_keystore_password");
        r.errors.push(SourceError::new(
            "ssl_keystore_password",
            "ssl_keystore_location is set, but not its password: librdkafka opens no PKCS#12 keystore without one",
            format!("call .ssl_keystore_password(...) or set {var}"),
        ));
    }
    for (option, secret) in [
        ("sasl_password", &s.sasl_password),
        ("ssl_keystore_password", &s.ssl_keystore_password),
    ] {
        if secret
            .as_ref()
            // librdkafka's `isspace`: ASCII white space, the vertical tab included.
            .is_some_and(|secret| {
                secret
                    .expose()
                    .starts_with(|c: char| c.is_ascii_whitespace() || c == '\x0b')
            })
        {
            r.errors.push(SourceError::new(
                option,
                format!("{option} begins with white space, which librdkafka removes: the broker or the keystore would get another password"),
                "remove the white space at its start (white space at its end is kept)",
            ));
        }
    }
    if s.ssl_keystore_password.is_some() && s.ssl_keystore_location.is_none() {
        let var = r.var("ssl_keystore_location");
        r.errors.push(SourceError::new(
            "ssl_keystore_password",
            "ssl_keystore_password is set, but there is no keystore to open: ssl_keystore_location is not set",
            format!("call .ssl_keystore_location(\"client.p12\") or set {var} to the PKCS#12 keystore, or remove ssl_keystore_password"),
        ));
    }
    for (option, location) in [
        ("ssl_keystore_location", &s.ssl_keystore_location),
        ("ssl_ca_file", &s.ssl_ca_file),
    ] {
        if let Some(Err(problem)) = location.as_deref().and_then(RemoteLocation::parse) {
            r.errors.push(SourceError::new(
                option,
                problem,
                "give a local path, or an s3://bucket/key or gs://bucket/key URI",
            ));
        }
    }
    if let Some(dlq) = &s.dead_letter_queue_topic {
        if let Err(problem) = super::super::topic_name::check(dlq) {
            r.errors.push(SourceError::new(
                "dead_letter_queue_topic",
                problem,
                "name the dead-letter topic as it is on the brokers",
            ));
        }
        if s.topics.contains(dlq) {
            r.errors.push(SourceError::new(
                "dead_letter_queue_topic",
                format!("`{dlq}` is also a topic the stream reads, so failed messages would loop"),
                "choose a separate dead-letter topic",
            ));
        }
    }
}

/// The value of `name` in the source's `additional_kafka_args`, if set.
fn additional_arg<'a>(s: &'a ResolvedSource, name: &str) -> Option<&'a str> {
    s.additional_kafka_args
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
}
