//! The enumerated options of a source and the one-or-many string lists.

use std::fmt;
use std::str::FromStr;

/// One value or several, as Chalk's `str | list[str]` options take.
#[derive(Debug, Clone, Copy)]
pub enum StrList {
    /// A single value (a comma-separated list is split).
    One(&'static str),
    /// Several values.
    Many(&'static [&'static str]),
}

impl StrList {
    /// The values, with comma-separated entries split and blanks dropped.
    pub fn to_vec(self) -> Vec<String> {
        match self {
            StrList::One(one) => split_list(one),
            StrList::Many(many) => many.iter().flat_map(|s| split_list(s)).collect(),
        }
    }
}

/// Splits `a, b ,c` into `["a", "b", "c"]`, as Chalk splits its list variables.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Why an enumerated option's text was not recognised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not one of {expected}")]
pub struct UnknownOption {
    given: String,
    expected: &'static str,
}

macro_rules! options_enum {
    (
        $(#[$meta:meta])* $name:ident, expected $expected:literal {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value as Kafka spells it.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownOption;

            /// Case-insensitive; `-` and `_` are interchangeable.
            fn from_str(text: &str) -> Result<Self, UnknownOption> {
                let wanted = text.trim().to_ascii_uppercase().replace('_', "-");
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().replace('_', "-") == wanted)
                    .ok_or_else(|| UnknownOption { given: text.to_owned(), expected: $expected })
            }
        }

    };
}

options_enum! {
    /// How the client talks to the brokers. Default `PLAINTEXT`.
    SecurityProtocol, expected "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL" {
        /// No encryption, no authentication.
        #[default]
        Plaintext => "PLAINTEXT",
        /// TLS.
        Ssl => "SSL",
        /// SASL authentication without TLS.
        SaslPlaintext => "SASL_PLAINTEXT",
        /// SASL authentication over TLS.
        SaslSsl => "SASL_SSL",
    }
}

options_enum! {
    /// The SASL mechanism for `SASL_PLAINTEXT` / `SASL_SSL`. Default `PLAIN`.
    SaslMechanism, expected "PLAIN, GSSAPI, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER" {
        /// Username and password in the clear (use with SASL_SSL).
        #[default]
        Plain => "PLAIN",
        /// Kerberos.
        Gssapi => "GSSAPI",
        /// SCRAM with SHA-256.
        ScramSha256 => "SCRAM-SHA-256",
        /// SCRAM with SHA-512.
        ScramSha512 => "SCRAM-SHA-512",
        /// OAuth bearer tokens.
        OAuthBearer => "OAUTHBEARER",
    }
}

impl SecurityProtocol {
    /// Whether the protocol authenticates with SASL.
    pub const fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }

    /// Whether the protocol runs over TLS.
    pub const fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
}

impl SaslMechanism {
    /// Whether the mechanism authenticates with a username and password.
    pub const fn uses_password(self) -> bool {
        matches!(self, Self::Plain | Self::ScramSha256 | Self::ScramSha512)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively() {
        assert_eq!("sasl_ssl".parse(), Ok(SecurityProtocol::SaslSsl));
        assert_eq!("scram-sha-512".parse(), Ok(SaslMechanism::ScramSha512));
        assert_eq!("SCRAM_SHA_256".parse(), Ok(SaslMechanism::ScramSha256));
        let err = "TLS"
            .parse::<SecurityProtocol>()
            .expect_err("not a protocol");
        assert_eq!(
            err.to_string(),
            "`TLS` is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
        );
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(StrList::One("a:1, b:2").to_vec(), ["a:1", "b:2"]);
        assert_eq!(StrList::Many(&["a", "b,c"]).to_vec(), ["a", "b", "c"]);
    }
}
