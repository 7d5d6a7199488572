//! The online store: Redis, one hash per entity.
//!
//! The hash `chalk:{namespace}:{key}` holds, for each feature, three fields: `{feature}` (the
//! value as text), `{feature}@type` (`bool`, `int`, `float`, `string`, `timestamp`, `list` or
//! `json`) and `{feature}@time` (the feature time, milliseconds since the epoch):
//!
//! ```text
//! redis-cli HGETALL chalk:user:u1
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, ErrorKind, RedisError, Script};

use super::redis_connection::{RedisConnection, Taken};
use super::redis_limits::{row_size, ServerLimits, BYTES_PER_SCRIPT};
use super::redis_part::Part;
use super::text::{from_text, to_text};
use super::{Entity, FeatureStore, StoreError, StoredFeature};
use crate::features::FeatureRow;
use crate::message::Timestamp;

/// Writes each feature unless the hash holds a newer feature time for it. One script run per batch
/// (per [`FEATURES_PER_SCRIPT`] features, or [`BYTES_PER_SCRIPT`] bytes, of a larger one, in whole
/// rows): Redis runs it atomically, so racing writers cannot break the rule. But Redis keeps what a
/// script wrote before an error, so every key is checked to hold a hash (or nothing) before
/// anything is written: a refused batch (or part) writes nothing, as in the other stores. Times are compared as the decimal integers they
/// are written as, since Lua's numbers are doubles, exact only to 2^53. A stored time that is not
/// an integer (written by hand or by another program) is replaced, as if older: comparing it would
/// fail the script, and every later write of the entity with it.
const WRITE_SCRIPT: &str = r"
for _, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'hash' and kind ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. kind .. ', not a hash')
  end
end
-- An integer's sign and digits without leading zeros; nothing when the text holds none.
local function integer(text)
  local sign, digits = string.match(text, '^(%-?)(%d+)$')
  if not digits then return nil, nil end
  digits = string.gsub(digits, '^0+', '')
  if digits == '' then return false, '0' end
  return sign == '-', digits
end
-- Whether integer a is at most integer b.
local function at_most(a_negative, a, b_negative, b)
  if a_negative ~= b_negative then return a_negative end
  if #a ~= #b then return (#a < #b) ~= a_negative end
  if a == b then return true end
  return (a < b) ~= a_negative
end
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 4
  local feature = ARGV[base + 1]
  local time = ARGV[base + 4]
  local stored_negative, stored = integer(redis.call('HGET', key, feature .. '@time') or '')
  local time_negative, digits = integer(time)
  if (not stored) or at_most(stored_negative, stored, time_negative, digits) then
    redis.call('HSET', key, feature, ARGV[base + 2], feature .. '@type', ARGV[base + 3],
      feature .. '@time', time)
  end
end
return #KEYS
";

const KEY_PREFIX: &str = "chalk:";

/// The most features one script run writes (a row with more is written alone, whole). Redis serves
/// nothing else while a script runs, and the client gives up on an answer after 5 s: a batch
/// without a bound (all the windows of a partition ending at once) would block every other client,
/// then time out although written, and be retried for ever. A larger batch is written in parts,
/// each atomic; if a part is refused, the parts before it stay written, which rewriting the batch
/// message by message (as the runtime then does) writes again unchanged.
const FEATURES_PER_SCRIPT: usize = 4_096;

/// A feature store in Redis. Connections are made lazily and remade after failures; an
/// unreachable server makes writes fail as unavailable, so the runtime waits and retries.
#[derive(Clone)]
pub struct RedisStore {
    url: String,
    /// The server's address, `host:port` (the URL without its password), for errors.
    address: String,
    connection: RedisConnection,
    write: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("address", &self.address)
            .finish()
    }
}

/// Why a Redis URL is refused, its password redacted.
pub(super) fn bad_url(url: &str, error: &RedisError) -> String {
    format!(
        "bad Redis URL `{}`: {}",
        super::redis_url::redacted(url),
        error_text(error)
    )
}

/// A Redis error's text without the Rust name of its kind: `Missing hostname`, not `Missing
/// hostname - InvalidClientConfig`.
pub(super) fn error_text(error: &RedisError) -> String {
    let text = error.to_string();
    match text.split_once(&format!(" - {:?}", error.kind())) {
        Some((description, detail)) => format!("{description}{detail}"),
        None => text,
    }
}

fn hash_key(namespace: &str, key: &str) -> String {
    format!("{KEY_PREFIX}{namespace}:{key}")
}

/// Why the row's names cannot be kept apart in a hash, if they cannot: a feature named like
/// another's type or time field, or a namespace with the `:` that ends it in the key. Derived
/// names (Rust identifiers) never do; a row built by hand may.
fn names_collide(row: &FeatureRow) -> Option<String> {
    if row.namespace.contains(':') {
        return Some(format!(
            "namespace `{}` contains `:`, which the Redis key uses to end it",
            row.namespace
        ));
    }
    row.values
        .iter()
        .find(|(feature, _)| feature.ends_with("@type") || feature.ends_with("@time"))
        .map(|(feature, _)| {
            format!(
                "feature `{feature}` ends like the field that keeps another feature's type or time"
            )
        })
}

impl RedisStore {
    /// A store at `url` (`redis://host:port[/db]`). Does not connect yet.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let client =
            redis::Client::open(url).map_err(|e| StoreError::Unavailable(bad_url(url, &e)))?;
        let address = format!("redis {}", client.get_connection_info().addr());
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let connection = RedisConnection::lazy(client, config)
            .map_err(|e| StoreError::Unavailable(format!("{address}: {}", error_text(&e))))?;
        Ok(Self {
            url: url.to_owned(),
            address,
            connection,
            write: Script::new(WRITE_SCRIPT),
        })
    }

    /// The server's URL, with its password if it has one (which `Debug` leaves out).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one part of a batch's writes.
    async fn run(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
        connection: &mut Taken,
    ) -> Result<(), StoreError> {
        let result = invocation
            .invoke_async::<i64>(&mut connection.manager)
            .await;
        result.map(|_| ()).map_err(|e| self.failed(connection, e))
    }

    /// The limits on a request of the server `connection` reaches, read at its first write.
    async fn limits(&self, connection: &mut Taken) -> Result<ServerLimits, StoreError> {
        if let Some(limits) = connection.limits {
            return Ok(limits);
        }
        let read = ServerLimits::read(&mut connection.manager).await;
        let limits = read.map_err(|e| self.failed(connection, e))?;
        self.connection.learned(connection, limits);
        Ok(limits)
    }

    /// Classes a command's failure on `connection`; the next commands go on a new one if the
    /// server was unavailable (see [`RedisConnection::failed`]).
    fn failed(&self, connection: &Taken, error: RedisError) -> StoreError {
        let error = self.classify(error);
        if matches!(error, StoreError::Unavailable(_)) {
            self.connection.failed(connection);
        }
        error
    }

    /// Classes a failed command: rejected rows, or an unavailable server, named.
    fn classify(&self, error: RedisError) -> StoreError {
        let text = format!("{}: {}", self.address, error_text(&error));
        match error.kind() {
            // The key holds something else than a hash, or the data cannot be stored as given.
            // (A reply that cannot be parsed is the connection's fault, not the rows': retried.)
            ErrorKind::UnexpectedReturnType => StoreError::Rejected(text),
            _ if error.code() == Some("WRONGTYPE") => StoreError::Rejected(text),
            // An argument or request over a limit the server did not tell (`ServerLimits`):
            // sending it again gets the same answer. (The server then closes the connection,
            // and this answer may be lost to a reset: the write is then unavailable.)
            _ if text.contains("Protocol error: invalid") => StoreError::Rejected(text),
            _ => StoreError::Unavailable(text),
        }
    }

    async fn read_hash(&self, key: &str) -> Result<Option<Entity>, StoreError> {
        let rest = key.strip_prefix(KEY_PREFIX).unwrap_or(key);
        let Some((namespace, entity_key)) = rest.split_once(':') else {
            return Ok(None);
        };
        let mut connection = self.connection.take();
        // As bytes: a field or value that is not UTF-8 (another program's, under the prefix)
        // is the data's fault, which reading again does not mend, not the connection's.
        let raw: Result<Vec<(Vec<u8>, Vec<u8>)>, _> = connection.manager.hgetall(key).await;
        let raw = raw.map_err(|e| self.failed(&connection, e))?;
        if raw.is_empty() {
            return Ok(None);
        }
        let fields = raw
            .into_iter()
            .map(|(name, value)| Ok((String::from_utf8(name)?, String::from_utf8(value)?)))
            .collect::<Result<BTreeMap<String, String>, std::string::FromUtf8Error>>()
            .map_err(|e| {
                StoreError::Unreadable(format!("{key}: a field that is not UTF-8: {e}"))
            })?;
        let mut features = BTreeMap::new();
        for (name, text) in &fields {
            if name.ends_with("@type") || name.ends_with("@time") {
                continue;
            }
            let corrupt =
                |what: &str| StoreError::Unreadable(format!("{key} field {name}: {what}"));
            let kind = fields
                .get(&format!("{name}@type"))
                .ok_or_else(|| corrupt("no @type field"))?;
            let time: i64 = fields
                .get(&format!("{name}@time"))
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| corrupt("no valid @time field"))?;
            let value = from_text(kind, text).map_err(|e| corrupt(&e))?;
            features.insert(
                name.clone(),
                StoredFeature {
                    value,
                    time: Timestamp::from_millis(time),
                },
            );
        }
        Ok(Some(Entity {
            namespace: namespace.to_owned(),
            key: entity_key.to_owned(),
            features,
        }))
    }
}

#[async_trait::async_trait]
impl FeatureStore for RedisStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        let mut connection = self.connection.take();
        let limits = self.limits(&mut connection).await?;
        // Every row is made text and checked before any part is sent: a row refused after a
        // part was written would leave the batch, refused, written in part.
        let mut texts = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(reason) = names_collide(row) {
                return Err(StoreError::Rejected(format!("{}: {reason}", self.address)));
            }
            let key = hash_key(row.namespace, &row.primary_key);
            let values = row
                .values
                .iter()
                .map(|(feature, value)| Ok((*feature, to_text(value)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            if let Some(reason) = limits.refuse(&key, &values) {
                return Err(StoreError::Rejected(format!("{}: {reason}", self.address)));
            }
            texts.push((key, values));
        }
        let mut part = Part::default();
        for (row, (key, texts)) in rows.iter().zip(texts) {
            let size = row_size(&key, &texts);
            // Parts end between rows, so that no reader sees half of a row's new values (a row
            // wider than a part is a part of its own).
            let full = part.features() + row.values.len() > FEATURES_PER_SCRIPT
                || part.bytes() + size > BYTES_PER_SCRIPT;
            if part.features() > 0 && full {
                self.run(&part.invocation(&self.write), &mut connection)
                    .await?;
                part = Part::default();
            }
            part.add(key, texts, row, size);
        }
        if part.features() == 0 {
            return Ok(());
        }
        self.run(&part.invocation(&self.write), &mut connection)
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.take();
        let pong = redis::cmd("PING")
            .query_async::<()>(&mut connection.manager)
            .await;
        pong.map_err(|e| self.failed(&connection, e))
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        // Never written (see `names_collide`): its key would be another entity's hash.
        if namespace.contains(':') {
            return Ok(None);
        }
        self.read_hash(&hash_key(namespace, key)).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        let mut connection = self.connection.take();
        let keys = all_keys(&mut connection.manager).await;
        let keys = keys.map_err(|e| self.failed(&connection, e))?;
        let mut entities = Vec::with_capacity(keys.len());
        for key in keys {
            match self.read_hash(&key).await {
                Ok(Some(entity)) => entities.push(entity),
                Ok(None) => {}
                // A key under the prefix that another program keeps as something else than a
                // hash is not an entity: the others are still listed.
                Err(StoreError::Rejected(why)) => {
                    tracing::debug!(key, %why, "not a hash: not an entity");
                }
                Err(error) => return Err(error),
            }
        }
        entities.sort_by(|a, b| (&a.namespace, &a.key).cmp(&(&b.namespace, &b.key)));
        Ok(entities)
    }
}

/// Every key under the prefix, once each.
async fn all_keys(connection: &mut ConnectionManager) -> Result<Vec<String>, RedisError> {
    let mut iter: redis::AsyncIter<'_, String> =
        connection.scan_match(format!("{KEY_PREFIX}*")).await?;
    let mut keys = Vec::new();
    while let Some(key) = futures::StreamExt::next(&mut iter).await {
        keys.push(key?);
    }
    // SCAN may return a key twice (when Redis resizes its table meanwhile).
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Port 1 on loopback: nothing listens there.
    const CLOSED: &str = "redis://:secret@127.0.0.1:1/0";

    #[tokio::test]
    async fn a_server_that_does_not_answer_is_named_without_its_password() {
        let store = RedisStore::open(CLOSED).expect("a valid URL opens without connecting");
        let error = store.ping().await.expect_err("nothing listens on port 1");
        let StoreError::Unavailable(text) = &error else {
            panic!("{error:?}");
        };
        assert!(text.starts_with("redis 127.0.0.1:1: "), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(!format!("{store:?}").contains("secret"), "{store:?}");
    }

    #[test]
    fn error_texts_leave_out_the_kind_s_rust_name() {
        let error = RedisError::from((ErrorKind::InvalidClientConfig, "Missing hostname"));
        assert_eq!(error_text(&error), "Missing hostname");
        let detailed = RedisError::from((ErrorKind::Io, "connection lost", "reset".to_owned()));
        assert_eq!(error_text(&detailed), "connection lost: reset");
    }
}
