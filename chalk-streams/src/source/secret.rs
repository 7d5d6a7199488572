//! Secrets that never print: a secret string, and the values of secret Kafka properties.

use std::fmt;

/// What a secret prints as.
pub(crate) const REDACTED: &str = "<redacted>";

/// A password or other secret: `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for handing to the Kafka client. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Whether a Kafka property's value is a secret (librdkafka or Java name): passwords and
/// passphrases, client secrets, and private keys given inline (`ssl.key.pem`,
/// `sasl.oauthbearer.assertion.private.key.pem`). Certificates and file paths are not secrets.
pub(crate) fn is_secret_property(key: &str) -> bool {
    // Keys are trimmed before they are used: `"ssl.key.password "` sets the password.
    let key = key.trim();
    key.ends_with(".password")
        || key.ends_with(".passphrase")
        || key.ends_with(".secret")
        || key.ends_with("key.pem")
        || key == "ssl_key"
        || key == "sasl.oauthbearer.config"
        || key == "sasl.jaas.config"
}

/// Prints property pairs as a list, with the values of secret properties redacted.
pub(crate) struct RedactedProperties<'a, K, V>(pub(crate) &'a [(K, V)]);

impl<K: AsRef<str>, V: AsRef<str>> fmt::Debug for RedactedProperties<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(key, value)| {
                let key = key.as_ref();
                let value = if is_secret_property(key) {
                    REDACTED
                } else {
                    value.as_ref()
                };
                (key, value)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_key_with_spaces_around_it_is_still_a_secret() {
        assert!(is_secret_property(" ssl.key.password "));
        let printed = format!(
            "{:?}",
            RedactedProperties(&[("ssl.key.password ", "KEY-PW")])
        );
        assert!(!printed.contains("KEY-PW"), "{printed}");
    }

    #[test]
    fn secret_property_values_are_redacted() {
        let printed = format!(
            "{:?}",
            RedactedProperties(&[
                ("fetch.wait.max.ms", "10"),
                ("sasl.oauthbearer.client.secret", "OIDC-SECRET"),
                ("ssl.key.password", "KEY-PASSWORD"),
                ("sasl.jaas.config", "... password=\"JAAS\";"),
                ("ssl.key.pem", "-----BEGIN PRIVATE KEY-----KEY-PEM"),
                (
                    "sasl.oauthbearer.assertion.private.key.pem",
                    "ASSERTION-KEY"
                ),
                (
                    "sasl.oauthbearer.assertion.private.key.passphrase",
                    "PASSPHRASE"
                ),
                ("ssl.certificate.pem", "-----BEGIN CERTIFICATE-----"),
            ])
        );
        assert!(printed.contains("BEGIN CERTIFICATE"), "{printed}");
        assert!(
            printed.contains("\"fetch.wait.max.ms\", \"10\""),
            "{printed}"
        );
        for secret in [
            "OIDC-SECRET",
            "KEY-PASSWORD",
            "JAAS",
            "KEY-PEM",
            "ASSERTION-KEY",
            "PASSPHRASE",
        ] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
