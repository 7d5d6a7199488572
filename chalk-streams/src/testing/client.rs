//! A Kafka client for tests, on any broker: produce records, read a topic back, create topics,
//! and inspect a group's committed offsets.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::Record;
use crate::error::{Error, Result};
use crate::runtime::window_marks::metadata_of;

pub(super) fn embedded(error: impl std::fmt::Display) -> Error {
    Error::Embedded(error.to_string())
}

/// The consumer group of one `read`, of its own on a broker that other test processes share
/// (test runners that run each test in a process, parallel CI jobs): the process id, when this
/// process started, and a count within it. Two readers in one group would split the topic's
/// partitions, each reading part of it.
fn reader_group() -> String {
    static READERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static STARTED: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let started = STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos())
    });
    let reader = READERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "chalk-streams-test-reader-{}-{started}-{reader}",
        std::process::id()
    )
}

/// A producer and short-lived consumers for one cluster, for tests.
///
/// [`MockKafka`](super::MockKafka) dereferences to one; [`connect`](Self::connect) makes one for
/// a real broker, with whatever security properties it needs.
pub struct KafkaTestClient {
    producer: FutureProducer,
    bootstrap_servers: String,
    /// Connection properties every client of this one sets (security, for example).
    properties: Vec<(String, String)>,
}

impl KafkaTestClient {
    /// A client for the brokers at `bootstrap_servers`, with extra librdkafka `properties`
    /// (`security.protocol`, `sasl.*`, `ssl.*`) set on every client it creates.
    pub fn connect(bootstrap_servers: &str, properties: &[(&str, &str)]) -> Result<Self> {
        let properties: Vec<(String, String)> = properties
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap_servers);
        for (name, value) in super::PRODUCER_DEFAULTS {
            config.set(*name, *value);
        }
        for (k, v) in &properties {
            config.set(k, v);
        }
        let producer = config.create().map_err(embedded)?;
        Ok(Self::with_producer(
            producer,
            bootstrap_servers.to_owned(),
            properties,
        ))
    }

    pub(super) fn with_producer(
        producer: FutureProducer,
        bootstrap_servers: String,
        properties: Vec<(String, String)>,
    ) -> Self {
        Self {
            producer,
            bootstrap_servers,
            properties,
        }
    }

    pub(super) fn producer(&self) -> &FutureProducer {
        &self.producer
    }

    /// The brokers' addresses, `127.0.0.1:port,...`.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// A configuration for another client of these brokers, with this client's properties.
    fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        for (k, v) in &self.properties {
            config.set(k, v);
        }
        config
    }

    /// Creates `topic` with `partitions` partitions through the admin API; a topic that already
    /// exists is fine.
    pub async fn create_topic_with_admin(&self, topic: &str, partitions: i32) -> Result<()> {
        let admin: AdminClient<DefaultClientContext> = self.config().create().map_err(embedded)?;
        let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin
            .create_topics(&[new], &options)
            .await
            .map_err(|e| embedded(format!("cannot create topic `{topic}`: {e}")))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(embedded(format!("cannot create topic `{name}`: {code}")))
                }
            }
        }
        Ok(())
    }

    /// Produces one record and waits for its acknowledgement; returns its partition and offset.
    pub async fn produce(&self, record: &Record) -> Result<(i32, i64)> {
        let mut future = FutureRecord::<[u8], [u8]>::to(&record.topic);
        if let Some(key) = &record.key {
            future = future.key(key.as_slice());
        }
        if let Some(payload) = &record.payload {
            future = future.payload(payload.as_slice());
        }
        if let Some(partition) = record.partition {
            future = future.partition(partition);
        }
        if let Some(timestamp) = record.timestamp {
            future = future.timestamp(timestamp.as_millis());
        }
        if !record.headers.is_empty() {
            let headers =
                record
                    .headers
                    .iter()
                    .fold(OwnedHeaders::new(), |headers, (name, value)| {
                        headers.insert(Header {
                            key: name,
                            value: Some(value),
                        })
                    });
            future = future.headers(headers);
        }
        let delivery = self
            .producer
            .send(future, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| embedded(format!("produce to `{}` failed: {e}", record.topic)))?;
        Ok((delivery.partition, delivery.offset))
    }

    /// Produces every record (in order within each partition) and waits until all are
    /// acknowledged.
    pub async fn produce_all(&self, records: &[Record]) -> Result<()> {
        futures::future::try_join_all(records.iter().map(|r| self.produce(r))).await?;
        Ok(())
    }

    /// Reads `count` records from the start of `topic` (all partitions), waiting up to `timeout`
    /// for them. Returns what arrived, which may be fewer: a topic that does not exist yet, or a
    /// broker that does not answer, is waited for until then. Only a fatal consumer error ends
    /// the read early, as an error.
    pub async fn read(
        &self,
        topic: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<OwnedMessage>> {
        let mut config = self.config();
        config
            // A group of its own per read: a reader never waits for an earlier one to leave.
            .set("group.id", reader_group())
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest");
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || -> Result<Vec<OwnedMessage>> {
            let consumer: BaseConsumer = config.create().map_err(embedded)?;
            consumer.subscribe(&[&topic]).map_err(embedded)?;
            let deadline =
                std::time::Instant::now() + timeout.min(crate::runtime::clock::LONGEST_WAIT);
            let mut records = Vec::with_capacity(count);
            while records.len() < count {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                match consumer.poll(left.min(Duration::from_millis(200))) {
                    Some(Ok(message)) => records.push(message.detach()),
                    Some(Err(error @ KafkaError::MessageConsumptionFatal(_))) => {
                        return Err(embedded(error))
                    }
                    // The topic not created yet, a connection lost: librdkafka retries.
                    Some(Err(error)) => tracing::debug!(%error, "test reader: consumer error"),
                    None => {}
                }
            }
            drop(consumer);
            Ok(records)
        })
        .await
        .map_err(embedded)?
    }

    /// The offsets committed by consumer group `group` on each of `partitions` of `topic`
    /// (`None` where nothing is committed).
    pub async fn committed_offsets(
        &self,
        group: &str,
        topic: &str,
        partitions: i32,
    ) -> Result<Vec<Option<i64>>> {
        let committed = self.committed(group, topic, partitions, false).await?;
        Ok(committed
            .into_iter()
            .map(|c| c.map(|(offset, _)| offset))
            .collect())
    }

    /// The metadata committed with the offsets of consumer group `group` on each of
    /// `partitions` of `topic` (`None` where nothing is committed): a window stream's commits
    /// carry what its workers had read, and when. Metadata that is not UTF-8 is an error.
    pub async fn committed_metadata(
        &self,
        group: &str,
        topic: &str,
        partitions: i32,
    ) -> Result<Vec<Option<String>>> {
        let committed = self.committed(group, topic, partitions, true).await?;
        Ok(committed
            .into_iter()
            .map(|c| c.map(|(_, metadata)| metadata))
            .collect())
    }

    /// The committed offsets, with their metadata if `with_metadata` (else empty).
    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partitions: i32,
        with_metadata: bool,
    ) -> Result<Vec<Option<(i64, String)>>> {
        let mut config = self.config();
        config.set("group.id", group);
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || -> Result<Vec<Option<(i64, String)>>> {
            let consumer: BaseConsumer = config.create().map_err(embedded)?;
            let mut wanted = TopicPartitionList::new();
            for p in 0..partitions {
                wanted.add_partition(&topic, p);
            }
            let offsets = {
                // Every list from the consumer is dropped before the consumer is.
                let committed = consumer
                    .committed_offsets(wanted, Duration::from_secs(10))
                    .map_err(embedded)?;
                (0..partitions)
                    .map(|p| {
                        let Some(element) = committed.find_partition(&topic, p) else {
                            return Ok(None);
                        };
                        // A partition the coordinator could not answer for is not one with
                        // nothing committed.
                        element
                            .error()
                            .map_err(|e| embedded(format!("partition {p}: {e}")))?;
                        let Offset::Offset(offset) = element.offset() else {
                            return Ok(None);
                        };
                        if !with_metadata {
                            return Ok(Some((offset, String::new())));
                        }
                        let metadata = metadata_of(&element).ok_or_else(|| {
                            embedded(format!("partition {p}: metadata not UTF-8"))
                        })?;
                        Ok(Some((offset, metadata)))
                    })
                    .collect::<Result<_>>()?
            };
            drop(consumer);
            Ok(offsets)
        })
        .await
        .map_err(embedded)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_read_has_a_group_no_other_process_uses() {
        let (first, second) = (reader_group(), reader_group());
        assert_ne!(first, second);
        let pid = format!("-{}-", std::process::id());
        assert!(first.contains(&pid), "{first}");
    }
}
