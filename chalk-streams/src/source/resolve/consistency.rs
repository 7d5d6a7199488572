//! Options that contradict one another: a SASL protocol without the credentials its mechanism
//! needs (or with credentials it does not use, or GSSAPI without its feature), SASL or TLS
//! options without a protocol that uses them, a keystore password without a keystore, a remote
//! file location that does not parse, a dead-letter topic the stream also reads.

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
