//! Choosing a store from configuration: `CHALK_STORE=sqlite://PATH[?flush_interval=DURATION]`,
//! `redis://HOST:PORT[/DB]`,
//! `memory`, or the embedded SQLite file by default.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::redis_url::redacted;
use super::{FeatureStore, MemoryStore, RedisStore, SqliteStore, StoreError};

/// The variable that chooses the store.
pub const STORE_VAR: &str = "CHALK_STORE";

/// The SQLite file used when nothing is configured, relative to the working directory.
pub const DEFAULT_SQLITE_FILE: &str = "chalk-features.sqlite";

/// Which feature store to use. `Debug` and `Display` leave a Redis URL's password out.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// In memory: nothing survives the process.
    Memory,
    /// An SQLite file.
    Sqlite {
        /// The file.
        path: PathBuf,
        /// How long a mapping stream's accepted batch may wait to be written with others
        /// (see [`SqliteStore`]); zero writes each batch before the worker goes on.
        flush_interval: Duration,
    },
    /// A Redis server, `redis://host:port[/db]`.
    Redis(String),
}

impl Default for StoreConfig {
    /// The embedded SQLite file, [`DEFAULT_SQLITE_FILE`].
    fn default() -> Self {
        StoreConfig::sqlite(DEFAULT_SQLITE_FILE)
    }
}

impl StoreConfig {
    /// The SQLite file at `path`, with the default flush interval.
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        StoreConfig::Sqlite {
            path: path.into(),
            flush_interval: SqliteStore::DEFAULT_FLUSH_INTERVAL,
        }
    }

    /// From `CHALK_STORE`, or the default when it is unset or empty.
    pub fn from_env() -> Result<Self, StoreConfigError> {
        match std::env::var(STORE_VAR) {
            Ok(text) if !text.trim().is_empty() => text.parse(),
            _ => Ok(Self::default()),
        }
    }

    /// Opens the configured store, creating an SQLite file that does not exist yet.
    pub fn open(&self) -> Result<Arc<dyn FeatureStore>, StoreError> {
        Ok(match self {
            StoreConfig::Memory => Arc::new(MemoryStore::new()),
            StoreConfig::Sqlite {
                path,
                flush_interval,
            } => Arc::new(SqliteStore::open_with_flush_interval(
                path,
                *flush_interval,
            )?),
            StoreConfig::Redis(url) => Arc::new(RedisStore::open(url)?),
        })
    }

    /// Opens the configured store to read what another process wrote: an SQLite file that does
    /// not exist or holds no store's table, or the in-memory store, which keeps nothing between
    /// processes, is an error rather than an empty store (and no file is created or changed).
    pub fn open_existing(&self) -> Result<Arc<dyn FeatureStore>, StoreError> {
        match self {
            StoreConfig::Memory => Err(StoreError::Unavailable(
                "the memory store keeps nothing between processes; read a `sqlite://PATH` or \
                 `redis://HOST:PORT` store"
                    .to_owned(),
            )),
            StoreConfig::Sqlite { path, .. } if !path.exists() => {
                Err(StoreError::Unavailable(format!(
                    "no store file at {}; set {STORE_VAR} or --store to the file the streams write",
                    path.display()
                )))
            }
            // Checked without writing: opening the store makes its table in a file without one
            // (another program's database, named by mistake).
            StoreConfig::Sqlite { path, .. } if !SqliteStore::is_a_store(path)? => {
                Err(StoreError::Unavailable(format!(
                    "{} is not a feature store (it has no `features` table of the store's \
                     columns); set {STORE_VAR} or --store to the file the streams write",
                    path.display()
                )))
            }
            _ => self.open(),
        }
    }
}

impl StoreConfig {
    /// Whether the store is a server, which other programs may share (memory and a file are
    /// taken as this program's own).
    pub(crate) fn is_a_server(&self) -> bool {
        matches!(self, StoreConfig::Redis(_))
    }
}

impl fmt::Display for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreConfig::Memory => f.write_str("memory"),
            StoreConfig::Sqlite {
                path,
                flush_interval,
            } => {
                write!(f, "sqlite://{}", path.display())?;
                if *flush_interval != SqliteStore::DEFAULT_FLUSH_INTERVAL {
                    // In milliseconds, which `flush_interval=` reads back; an interval under a
                    // millisecond shows as one, not as zero (which writes each batch at once).
                    let millis = flush_interval.as_millis();
                    let millis = if millis == 0 && !flush_interval.is_zero() {
                        1
                    } else {
                        millis
                    };
                    write!(f, "?flush_interval={millis}ms")?;
                }
                Ok(())
            }
            StoreConfig::Redis(url) => f.write_str(&redacted(url)),
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreConfig::Memory => f.write_str("Memory"),
            StoreConfig::Sqlite {
                path,
                flush_interval,
            } => f
                .debug_struct("Sqlite")
                .field("path", path)
                .field("flush_interval", flush_interval)
                .finish(),
            // A failed assertion, or a configuration logged whole, would show it otherwise.
            StoreConfig::Redis(url) => f.debug_tuple("Redis").field(&redacted(url)).finish(),
        }
    }
}

/// A store URL that is not understood, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreConfigError(String);

impl FromStr for StoreConfig {
    type Err = StoreConfigError;

    fn from_str(text: &str) -> Result<Self, StoreConfigError> {
        let text = text.trim();
        if text == "memory" {
            return Ok(StoreConfig::Memory);
        }
        if text.starts_with("rediss://") {
            // Named without what follows, which may hold a password.
            return Err(StoreConfigError(
                "`rediss://` (Redis over TLS) is not supported: use `redis://HOST:PORT[/DB]`, \
                 through a TLS tunnel (stunnel, say) where the server takes TLS only"
                    .to_owned(),
            ));
        }
        if text.starts_with("redis://") {
            // A URL with a password is checked when the store is opened, whose error redacts
            // it: an error here would be printed by clap with the value as given.
            if text.contains('@') {
                return Ok(StoreConfig::Redis(text.to_owned()));
            }
            return match redis::IntoConnectionInfo::into_connection_info(text) {
                Ok(_) => Ok(StoreConfig::Redis(text.to_owned())),
                Err(error) => Err(StoreConfigError(format!(
                    "{}; use `redis://HOST:PORT[/DB]`",
                    super::redis::bad_url(text, &error)
                ))),
            };
        }
        match text.strip_prefix("sqlite://") {
            Some(path) if !path.is_empty() && !path.starts_with('?') => sqlite_url(path),
            Some(_) => Err(StoreConfigError(format!(
                "`sqlite://` needs the file's path: `sqlite://PATH`, such as \
                 `sqlite://{DEFAULT_SQLITE_FILE}`"
            ))),
            None => Err(StoreConfigError(format!(
                "unknown feature store `{}`: use `sqlite://PATH`, `redis://HOST:PORT[/DB]` or \
                 `memory`",
                redacted(text)
            ))),
        }
    }
}

/// `PATH[?flush_interval=DURATION]`, after `sqlite://`. What follows the last `?` is taken
/// for parameters only if it reads as `name=value`: a file's name may hold a `?`.
fn sqlite_url(text: &str) -> Result<StoreConfig, StoreConfigError> {
    let parameters = text.rsplit_once('?').filter(|(_, query)| {
        query.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
    });
    let Some((path, query)) = parameters else {
        return Ok(StoreConfig::sqlite(text));
    };
    let mut flush_interval = SqliteStore::DEFAULT_FLUSH_INTERVAL;
    for parameter in query.split('&') {
        match parameter.split_once('=') {
            Some(("flush_interval", value)) => {
                flush_interval = crate::duration::parse_duration(value).map_err(|error| {
                    StoreConfigError(format!(
                        "`flush_interval={value}` of a SQLite store: {error}"
                    ))
                })?;
            }
            _ => {
                return Err(StoreConfigError(format!(
                    "unknown parameter `{parameter}` of a SQLite store: use \
                     `sqlite://PATH?flush_interval=DURATION`, such as `flush_interval=250ms`"
                )))
            }
        }
    }
    Ok(StoreConfig::Sqlite {
        path: path.into(),
        flush_interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_store_urls() {
        assert_eq!("memory".parse(), Ok(StoreConfig::Memory));
        assert_eq!(
            "sqlite://data/f.sqlite".parse(),
            Ok(StoreConfig::sqlite("data/f.sqlite"))
        );
        assert_eq!(
            "sqlite:///abs/f.sqlite".parse(),
            Ok(StoreConfig::sqlite("/abs/f.sqlite"))
        );
        let every_250ms = StoreConfig::Sqlite {
            path: "f.sqlite".into(),
            flush_interval: Duration::from_millis(250),
        };
        assert_eq!(
            "sqlite://f.sqlite?flush_interval=250ms".parse(),
            Ok(every_250ms.clone())
        );
        assert_eq!(
            every_250ms.to_string(),
            "sqlite://f.sqlite?flush_interval=250ms"
        );
        let at_once = StoreConfig::Sqlite {
            path: "f.sqlite".into(),
            flush_interval: Duration::ZERO,
        };
        assert_eq!("sqlite://f.sqlite?flush_interval=0s".parse(), Ok(at_once));
        assert_eq!(
            "sqlite://what?.sqlite".parse(),
            Ok(StoreConfig::sqlite("what?.sqlite")),
            "a `?` in a file's name"
        );
        assert_eq!(
            "redis://127.0.0.1:6379/2".parse(),
            Ok(StoreConfig::Redis("redis://127.0.0.1:6379/2".into()))
        );
        assert!("postgres://x".parse::<StoreConfig>().is_err());
        assert_eq!(
            StoreConfig::default().to_string(),
            "sqlite://chalk-features.sqlite"
        );
    }

    #[test]
    fn a_bad_store_url_says_what_is_wrong() {
        let error = |url: &str| url.parse::<StoreConfig>().expect_err(url).to_string();
        assert_eq!(
            error("sqlite://"),
            "`sqlite://` needs the file's path: `sqlite://PATH`, such as \
             `sqlite://chalk-features.sqlite`"
        );
        assert_eq!(
            error("sqlite://f.sqlite?flush_interval=soon"),
            "`flush_interval=soon` of a SQLite store: each part of a duration is a number \
             followed by a unit (w, d, h, m, s, ms), e.g. \"1h30m\""
        );
        assert_eq!(
            error("sqlite://f.sqlite?cache=64MB"),
            "unknown parameter `cache=64MB` of a SQLite store: use \
             `sqlite://PATH?flush_interval=DURATION`, such as `flush_interval=250ms`"
        );
        let tls = error("rediss://:secret@cache:6380");
        assert!(
            tls.starts_with("`rediss://` (Redis over TLS) is not supported"),
            "{tls}"
        );
        assert!(!tls.contains("secret"), "{tls}");
        assert_eq!(
            error("postgres://x"),
            "unknown feature store `postgres://x`: use `sqlite://PATH`, `redis://HOST:PORT[/DB]` \
             or `memory`"
        );
        assert_eq!(
            error("redis://"),
            "bad Redis URL `redis://`: Missing hostname; use `redis://HOST:PORT[/DB]`"
        );
        assert_eq!(
            error("redis://127.0.0.1:6379/abc"),
            "bad Redis URL `redis://127.0.0.1:6379/abc`: Invalid database number; use \
             `redis://HOST:PORT[/DB]`"
        );
        // With a password, checked when opened, where the error redacts it.
        let with_password: StoreConfig = "redis://:secret@127.0.0.1:6379/abc"
            .parse()
            .expect("taken as given");
        let Err(opened) = with_password.open() else {
            panic!("a bad database number opens");
        };
        assert!(!opened.to_string().contains("secret"), "{opened}");
        assert!(
            opened.to_string().contains("Invalid database number"),
            "{opened}"
        );
    }

    #[test]
    fn a_redis_password_is_left_out_of_debug() {
        let config: StoreConfig = "redis://:secret@127.0.0.1:6379/0".parse().expect("parsed");
        let shown = format!("{config:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.starts_with("Redis(\"redis://"), "{shown}");
    }
}
