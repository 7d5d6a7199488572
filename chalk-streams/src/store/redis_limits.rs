//! What one request to Redis may carry. A value longer than the server's `proto-max-bulk-len`,
//! or a request longer than its `client-query-buffer-limit`, makes the server close the
//! connection: to a client, that looks like an outage, and the write would be retried for
//! ever. So rows are checked against the limits before they are sent, and refused for good
//! when they break them; and a batch's script runs are kept well below the request limit.

use std::collections::HashMap;

use redis::aio::ConnectionManager;
use redis::{ErrorKind, RedisError};

/// The most bytes of arguments one script run carries, in whole rows (a larger row is a run
/// of its own, up to the server's limit).
pub(super) const BYTES_PER_SCRIPT: usize = 64 << 20;

/// Bytes a feature costs in a script run besides its key, name and value text: its type, its
/// time and the protocol's framing of its four arguments, at most.
const FEATURE_OVERHEAD: usize = 64;

/// The server's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ServerLimits {
    /// `proto-max-bulk-len`: the longest argument.
    pub bulk: usize,
    /// `client-query-buffer-limit`: the longest request.
    pub request: usize,
}

impl ServerLimits {
    /// Redis's defaults (512 MB and 1 GB), for a server that does not tell its own.
    pub(super) const DEFAULT: Self = Self {
        bulk: 512 << 20,
        request: 1 << 30,
    };

    /// The limits `connection`'s server has set. A server that refuses `CONFIG GET` (managed
    /// services rename or forbid it) is taken to have Redis's defaults; one that cannot be
    /// reached is an error.
    pub(super) async fn read(connection: &mut ConnectionManager) -> Result<Self, RedisError> {
        let mut limits = Self::DEFAULT;
        for (name, limit) in [
            ("proto-max-bulk-len", &mut limits.bulk),
            ("client-query-buffer-limit", &mut limits.request),
        ] {
            // A map: RESP2 answers a flat list of names and values, RESP3 a map, and both
            // read as one.
            let answer: Result<HashMap<String, String>, RedisError> = redis::cmd("CONFIG")
                .arg("GET")
                .arg(name)
                .query_async(connection)
                .await;
            match answer {
                Ok(settings) => {
                    if let Some(value) = settings.get(name).and_then(|v| v.parse().ok()) {
                        *limit = value;
                    }
                }
                Err(error) if refused(&error) => {
                    tracing::debug!(name, error = %error, "CONFIG GET refused: Redis's default assumed");
                }
                Err(error) if error.kind() == ErrorKind::Parse => {
                    tracing::warn!(name, error = %error, "CONFIG GET answered in a form not understood: Redis's default assumed");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(limits)
    }

    /// Why a row of these features (name and value text) under `key` cannot be written, if it
    /// cannot: a value longer than an argument may be, or a row longer than a request.
    pub(super) fn refuse(&self, key: &str, features: &[(&str, String)]) -> Option<String> {
        for (name, text) in features {
            if text.len() > self.bulk {
                return Some(format!(
                    "feature `{name}` of `{key}` is {} bytes as text, more than the server's \
                     proto-max-bulk-len ({} bytes)",
                    text.len(),
                    self.bulk
                ));
            }
        }
        let size = row_size(key, features);
        // Half the request limit: the script and the protocol's framing need room too.
        (size > self.request / 2).then(|| {
            format!(
                "row `{key}` is {size} bytes as text, more than half the server's \
                 client-query-buffer-limit ({} bytes)",
                self.request
            )
        })
    }
}

/// The bytes a row costs in a script run.
pub(super) fn row_size(key: &str, features: &[(&str, String)]) -> usize {
    features
        .iter()
        .map(|(name, text)| key.len() + name.len() + text.len() + FEATURE_OVERHEAD)
        .sum()
}

/// Whether the server answered, refusing the command (unknown, renamed, not permitted, or a
/// proxy's own refusal, such as `unsupported command`), rather than failing to answer. A
/// refusal that passes (`BUSY`, `LOADING`, `NOAUTH`, ...) is not one: the limits are read
/// again at the next write, not taken as the defaults for good.
fn refused(error: &RedisError) -> bool {
    const PASSING: &[&str] = &[
        "BUSY",
        "LOADING",
        "NOAUTH",
        "WRONGPASS",
        "TRYAGAIN",
        "MASTERDOWN",
        "CLUSTERDOWN",
    ];
    let answered = matches!(error.kind(), ErrorKind::Server(_) | ErrorKind::Extension);
    answered && !error.code().is_some_and(|code| PASSING.contains(&code))
}

#[cfg(test)]
mod tests {
    use redis::ServerErrorKind;

    use super::*;

    #[test]
    fn only_a_refused_command_gives_the_defaults() {
        let unknown = RedisError::from((
            ErrorKind::Server(ServerErrorKind::ResponseError),
            "unknown command",
        ));
        assert!(refused(&unknown));
        let no_perm = RedisError::from((ErrorKind::Server(ServerErrorKind::NoPerm), "no perm"));
        assert!(refused(&no_perm));
        // A proxy's own refusal.
        let proxy = redis::make_extension_error("unsupported".to_owned(), None);
        assert!(refused(&proxy));
        // A script running on the server, or a login to come: the limits are read again later.
        for code in ["BUSY", "NOAUTH"] {
            let passing = redis::make_extension_error(code.to_owned(), None);
            assert!(!refused(&passing), "{code}");
        }
        let loading =
            RedisError::from((ErrorKind::Server(ServerErrorKind::BusyLoading), "loading"));
        assert!(!refused(&loading));
    }

    #[test]
    fn a_value_or_row_beyond_the_servers_limits_is_refused_with_both_named() {
        let limits = ServerLimits {
            bulk: 10,
            request: 400,
        };
        let features = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            pairs.iter().map(|(f, t)| (*f, (*t).to_owned())).collect()
        };
        assert_eq!(
            limits.refuse("user:u1", &features(&[("color", "red")])),
            None
        );
        let too_long = limits
            .refuse(
                "user:u1",
                &features(&[("color", "red"), ("bio", "eleven char")]),
            )
            .expect("refused");
        assert!(
            too_long.contains("`bio` of `user:u1` is 11 bytes"),
            "{too_long}"
        );
        assert!(
            too_long.contains("proto-max-bulk-len (10 bytes)"),
            "{too_long}"
        );
        let wide = features(&[("f", "0123456789"); 3]);
        let too_wide = limits.refuse("user:u1", &wide).expect("refused");
        assert!(
            too_wide.contains("client-query-buffer-limit (400 bytes)"),
            "{too_wide}"
        );
    }
}
