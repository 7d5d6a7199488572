//! Mapping a resolved source to librdkafka properties.

use std::fmt;

use rdkafka::ClientConfig;

pub(crate) use super::client_kind::ClientKind;
use super::property_names::canonical;
use super::resolve::ResolvedSource;
use super::secret::{is_secret_property, REDACTED};

/// How often the runtime commits stored offsets unless `auto.commit.interval.ms` says otherwise.
pub(crate) const AUTO_COMMIT_INTERVAL_MS: u64 = 1000;

/// Messages librdkafka keeps fetched ahead per partition: about five of the runtime's largest
/// batches (librdkafka's default is 100,000).
const QUEUED_MIN_MESSAGES: &str = "5000";
/// Kilobytes librdkafka keeps fetched ahead per partition queue (a fetch may overshoot it by one
/// response). librdkafka also caps a fetch response's total (`fetch.max.bytes`) at it, which is
/// what bounds a partition's prefetch on a broker that ignores the per-partition limit (tansu:
/// 60,000 messages of 60 bytes a partition), though never below `message.max.bytes`. Lower
/// costs throughput there unless `fetch.wait.max.ms` is shorter too; see the README.
const QUEUED_MAX_KBYTES: &str = "4096";
/// How long a partition's next fetch waits when its queue is over those limits.
const FETCH_QUEUE_BACKOFF_MS: &str = "10";
/// How long a broker may hold a fetch that finds no new data (librdkafka's default is 500 ms).
const FETCH_WAIT_MAX_MS: &str = "100";

/// librdkafka properties, in the order they are set. `Debug` and `Display` redact secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KafkaProperties {
    entries: Vec<(String, String)>,
}

impl KafkaProperties {
    /// Sets `key`, replacing an earlier value, its librdkafka aliases' included.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let key = match canonical(&key) {
            kept if kept != key => kept.to_owned(),
            _ => key,
        };
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let key = canonical(key);
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets each of `properties` that a `kind` client reads, replacing earlier values. The
    /// others are left out: librdkafka would only ignore them, with a warning at every start.
    pub(crate) fn extend_for<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        kind: ClientKind,
        properties: &[(K, V)],
    ) {
        for (key, value) in properties {
            if kind.reads(key.as_ref()) {
                self.set(key.as_ref(), value.as_ref());
            }
        }
    }

    /// Every property, secrets included: for building a client, never for printing.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A librdkafka client configuration with these properties.
    pub fn to_client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (k, v) in self.iter() {
            config.set(k, v);
        }
        config
    }
}

impl fmt::Debug for KafkaProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| {
                (
                    k,
                    if is_secret_property(k) {
                        REDACTED
                    } else {
                        v.as_str()
                    },
                )
            }))
            .finish()
    }
}

impl fmt::Display for KafkaProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.entries {
            let v = if is_secret_property(k) {
                REDACTED
            } else {
                v.as_str()
            };
            writeln!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

impl ResolvedSource {
    /// The consumer group of the stream called `stream`: `{group_id_prefix}{stream}`.
    pub fn group_id(&self, stream: &str) -> String {
        format!("{}{stream}", self.group_id_prefix)
    }

    /// The client id of the stream called `stream`: `{client_id_prefix}{stream}`.
    pub fn client_id(&self, stream: &str) -> String {
        format!("{}{stream}", self.client_id_prefix)
    }

    /// What every client of this source needs: brokers and security, without
    /// `additional_kafka_args` (see [`consumer_properties`](Self::consumer_properties) and
    /// [`producer_properties`](Self::producer_properties)).
    pub fn connection_properties(&self) -> KafkaProperties {
        let mut p = KafkaProperties::default();
        p.set("bootstrap.servers", self.bootstrap_servers.join(","));
        p.set(
            "security.protocol",
            self.security_protocol.as_str().to_ascii_lowercase(),
        );
        if self.security_protocol.uses_sasl() {
            p.set("sasl.mechanism", self.sasl_mechanism.as_str());
            if let Some(user) = &self.sasl_username {
                p.set("sasl.username", user);
            }
            if let Some(password) = &self.sasl_password {
                p.set("sasl.password", password.expose());
            }
        }
        if let Some(keystore) = &self.ssl_keystore_location {
            p.set("ssl.keystore.location", keystore);
        }
        if let Some(password) = &self.ssl_keystore_password {
            p.set("ssl.keystore.password", password.expose());
        }
        if let Some(ca) = &self.ssl_ca_file {
            p.set("ssl.ca.location", ca);
        }
        p
    }

    /// How a `kind` client of this source connects: brokers and security, then the
    /// `additional_kafka_args` such a client reads. Every client of a source (consumer,
    /// dead-letter producer, `push`, `dlq replay`, the start-up check) gets them: a login set
    /// there (OAUTHBEARER, Kerberos, a PEM client certificate) is every client's login.
    pub(crate) fn client_properties(&self, kind: ClientKind) -> KafkaProperties {
        let mut p = self.connection_properties();
        p.extend_for(kind, &self.additional_kafka_args);
        p
    }

    /// The producers of this source's stream (dead letters, `push`): brokers, security and
    /// the `additional_kafka_args` a producer reads.
    pub fn producer_properties(&self) -> KafkaProperties {
        self.client_properties(ClientKind::Producer)
    }

    /// The consumer of stream `stream`: connection, group, at-least-once offset handling,
    /// then the `additional_kafka_args` a consumer reads.
    pub fn consumer_properties(&self, stream: &str) -> KafkaProperties {
        let mut p = self.connection_properties();
        p.set("group.id", self.group_id(stream));
        p.set("client.id", self.client_id(stream));
        // Offsets are stored by the runtime only once a message's outputs are durable. The
        // runtime commits what is stored every `auto.commit.interval.ms`, and where partitions
        // change hands, one commit at a time: librdkafka's background commits could retry an
        // older commit after the last one and move the group's offsets back.
        p.set("enable.auto.commit", "false");
        p.set("enable.auto.offset.store", "false");
        p.set(
            "auto.commit.interval.ms",
            AUTO_COMMIT_INTERVAL_MS.to_string(),
        );
        p.set("enable.partition.eof", "false");
        // A new group starts from the beginning: nothing on the topic is silently passed over.
        p.set("auto.offset.reset", "earliest");
        // Bounded prefetch, so that memory does not grow with the backlog: librdkafka's defaults
        // (100,000 messages a partition, up to 64 MiB) hold far more than the few batches a
        // partition's worker needs in hand. `additional_kafka_args` may raise them.
        p.set("queued.min.messages", QUEUED_MIN_MESSAGES);
        p.set("queued.max.messages.kbytes", QUEUED_MAX_KBYTES);
        // Past those limits librdkafka postpones a partition's next fetch, by a second unless
        // told otherwise: far longer than a worker takes to drain what is queued.
        p.set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS);
        // Some brokers (librdkafka's mock cluster, tansu) answer a fetch only when its wait runs
        // out, not when data arrives; a short wait keeps a drained queue from idling behind one.
        p.set("fetch.wait.max.ms", FETCH_WAIT_MAX_MS);
        p.extend_for(ClientKind::Consumer, &self.additional_kafka_args);
        p
    }
}
