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

use super::text::{from_text, to_text};
use super::{Entity, FeatureStore, StoreError, StoredFeature};
use crate::features::FeatureRow;
use crate::message::Timestamp;

/// Writes each feature unless the hash holds a newer feature time for it. One script run per
/// batch: Redis runs it atomically, so racing writers cannot break the rule. A stored time that
/// is not a number (written by hand or by another program) is replaced, as if older: comparing
/// it would fail the script, and every later write of the entity with it.
const WRITE_SCRIPT: &str = r"
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 4
  local feature = ARGV[base + 1]
  local time = ARGV[base + 4]
  local stored = tonumber(redis.call('HGET', key, feature .. '@time'))
  if (not stored) or stored <= tonumber(time) then
    redis.call('HSET', key, feature, ARGV[base + 2], feature .. '@type', ARGV[base + 3],
      feature .. '@time', time)
  end
end
return #KEYS
";

const KEY_PREFIX: &str = "chalk:";

/// A feature store in Redis. Connections are made lazily and remade after failures; an
/// unreachable server makes writes fail as unavailable, so the runtime waits and retries.
#[derive(Clone)]
pub struct RedisStore {
    url: String,
    connection: ConnectionManager,
    write: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .finish()
    }
}

fn classify(error: RedisError) -> StoreError {
    match error.kind() {
        // The key holds something else than a hash, or the data cannot be stored as given. (A
        // reply that cannot be parsed is the connection's fault, not the rows': retried.)
        ErrorKind::UnexpectedReturnType => StoreError::Rejected(error.to_string()),
        _ if error.code() == Some("WRONGTYPE") => StoreError::Rejected(error.to_string()),
        _ => StoreError::Unavailable(error.to_string()),
    }
}

fn hash_key(namespace: &str, key: &str) -> String {
    format!("{KEY_PREFIX}{namespace}:{key}")
}

impl RedisStore {
    /// A store at `url` (`redis://host:port[/db]`). Does not connect yet.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)
            .map_err(|e| StoreError::Unavailable(format!("bad Redis URL `{url}`: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            url: url.to_owned(),
            connection,
            write: Script::new(WRITE_SCRIPT),
        })
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn read_hash(&self, key: &str) -> Result<Option<Entity>, StoreError> {
        let rest = key.strip_prefix(KEY_PREFIX).unwrap_or(key);
        let Some((namespace, entity_key)) = rest.split_once(':') else {
            return Ok(None);
        };
        let mut connection = self.connection.clone();
        let fields: BTreeMap<String, String> = connection.hgetall(key).await.map_err(classify)?;
        if fields.is_empty() {
            return Ok(None);
        }
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
        let mut invocation = self.write.prepare_invoke();
        let mut any = false;
        for row in rows {
            let key = hash_key(row.namespace, &row.primary_key);
            let time = row.time.as_millis();
            for (feature, value) in &row.values {
                invocation
                    .key(&key)
                    .arg(*feature)
                    .arg(to_text(value)?)
                    .arg(value.type_name())
                    .arg(time);
                any = true;
            }
        }
        if !any {
            return Ok(());
        }
        let mut connection = self.connection.clone();
        invocation
            .invoke_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(classify)
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        self.read_hash(&hash_key(namespace, key)).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        let mut connection = self.connection.clone();
        let keys: Vec<String> = {
            let mut iter: redis::AsyncIter<'_, String> = connection
                .scan_match(format!("{KEY_PREFIX}*"))
                .await
                .map_err(classify)?;
            let mut keys = Vec::new();
            while let Some(key) = futures::StreamExt::next(&mut iter).await {
                keys.push(key.map_err(classify)?);
            }
            keys
        };
        let mut entities = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(entity) = self.read_hash(&key).await? {
                entities.push(entity);
            }
        }
        entities.sort_by(|a, b| (&a.namespace, &a.key).cmp(&(&b.namespace, &b.key)));
        Ok(entities)
    }
}
