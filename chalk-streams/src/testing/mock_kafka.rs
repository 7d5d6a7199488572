//! An in-process Kafka cluster (librdkafka's mock) with a producer and offset inspection.

use std::time::Duration;

use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::future_producer::FutureProducerContext;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::Record;
use crate::error::{Error, Result};

/// A mock Kafka cluster in this process, speaking the Kafka protocol on loopback ports.
///
/// Consumer groups join at once (the mock's 3 s initial rebalance delay is turned off). It has no
/// TLS, SASL or admin API: test those against a real broker.
pub struct MockKafka {
    producer: FutureProducer,
    bootstrap_servers: String,
}

/// A number unique in this process, for the group of each `read`.
fn next_reader() -> u64 {
    static READERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    READERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn embedded(error: impl std::fmt::Display) -> Error {
    Error::Embedded(error.to_string())
}

impl MockKafka {
    /// Starts a cluster of `brokers` brokers.
    pub fn start(brokers: u32) -> Result<Self> {
        // The cluster lives inside this producer's client; the producer also serves `produce`.
        let producer: FutureProducer = ClientConfig::new()
            .set("test.mock.num.brokers", brokers.to_string())
            .set("linger.ms", "5")
            // Room for oversized test messages; the mock broker has no size limit.
            .set("message.max.bytes", "16777216")
            .create()
            .map_err(embedded)?;
        let cluster = producer
            .client()
            .mock_cluster()
            .ok_or_else(|| embedded("librdkafka did not create a mock cluster"))?;
        // SAFETY: the pointer comes from a live client created with test.mock.num.brokers and is
        // used only while `producer` (which owns the cluster) is alive.
        unsafe {
            let raw = rdkafka_sys::rd_kafka_handle_mock_cluster(producer.client().native_ptr());
            if !raw.is_null() {
                rdkafka_sys::rd_kafka_mock_group_initial_rebalance_delay_ms(raw, 0);
            }
        }
        let bootstrap_servers = cluster.bootstrap_servers();
        drop(cluster);
        Ok(Self {
            producer,
            bootstrap_servers,
        })
    }

    /// The brokers' addresses, `127.0.0.1:port,...`.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// The mock cluster itself, for fault injection (broker down/up, request errors).
    pub fn cluster(&self) -> Result<MockCluster<'_, FutureProducerContext<DefaultClientContext>>> {
        self.producer
            .client()
            .mock_cluster()
            .ok_or_else(|| embedded("the mock cluster is gone"))
    }

    /// Creates a topic with `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        self.cluster()?
            .create_topic(topic, partitions, 1)
            .map_err(|e| embedded(format!("cannot create topic `{topic}`: {e}")))
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
    /// for them. Returns what arrived, which may be fewer.
    pub async fn read(
        &self,
        topic: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<OwnedMessage>> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap_servers)
            // A group of its own per read: a reader never waits for an earlier one to leave.
            .set(
                "group.id",
                format!("chalk-streams-test-reader-{}", next_reader()),
            )
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest");
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || -> Result<Vec<OwnedMessage>> {
            let consumer: BaseConsumer = config.create().map_err(embedded)?;
            consumer.subscribe(&[&topic]).map_err(embedded)?;
            let deadline = std::time::Instant::now() + timeout;
            let mut records = Vec::with_capacity(count);
            while records.len() < count {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                match consumer.poll(left.min(Duration::from_millis(200))) {
                    Some(Ok(message)) => records.push(message.detach()),
                    Some(Err(error)) => return Err(embedded(error)),
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
        let config = {
            let mut config = ClientConfig::new();
            config
                .set("bootstrap.servers", &self.bootstrap_servers)
                .set("group.id", group);
            config
        };
        let topic = topic.to_owned();
        tokio::task::spawn_blocking(move || -> Result<Vec<Option<i64>>> {
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
                    .map(
                        |p| match committed.find_partition(&topic, p).map(|e| e.offset()) {
                            Some(Offset::Offset(o)) => Some(o),
                            _ => None,
                        },
                    )
                    .collect()
            };
            drop(consumer);
            Ok(offsets)
        })
        .await
        .map_err(embedded)?
    }
}
