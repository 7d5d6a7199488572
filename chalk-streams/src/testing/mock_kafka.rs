//! An in-process Kafka cluster (librdkafka's mock), with a client connected to it.

use rdkafka::client::DefaultClientContext;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::future_producer::FutureProducerContext;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::ClientConfig;

use super::client::{embedded, KafkaTestClient};
use crate::error::Result;

/// A mock Kafka cluster in this process, speaking the Kafka protocol on loopback ports.
///
/// Consumer groups join at once (the mock's 3 s initial rebalance delay is turned off). It has no
/// TLS, SASL or admin API: test those against a real broker.
///
/// It dereferences to a [`KafkaTestClient`] connected to it, so that a test produces, reads and
/// inspects committed offsets the same way on the mock and on a real broker.
pub struct MockKafka {
    client: KafkaTestClient,
}

impl MockKafka {
    /// Starts a cluster of `brokers` brokers.
    pub fn start(brokers: u32) -> Result<Self> {
        // The cluster lives inside this producer's client; the producer also serves `produce`.
        let mut config = ClientConfig::new();
        config.set("test.mock.num.brokers", brokers.to_string());
        for (name, value) in super::PRODUCER_DEFAULTS {
            config.set(*name, *value);
        }
        let producer: FutureProducer = config.create().map_err(embedded)?;
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
            client: KafkaTestClient::with_producer(producer, bootstrap_servers, Vec::new()),
        })
    }

    /// The mock cluster itself, for fault injection (broker down/up, request errors).
    pub fn cluster(&self) -> Result<MockCluster<'_, FutureProducerContext<DefaultClientContext>>> {
        self.client
            .producer()
            .client()
            .mock_cluster()
            .ok_or_else(|| embedded("the mock cluster is gone"))
    }

    /// Creates a topic with `partitions` partitions (the mock has no admin API: this goes
    /// through the cluster's own interface).
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        self.cluster()?
            .create_topic(topic, partitions, 1)
            .map_err(|e| embedded(format!("cannot create topic `{topic}`: {e}")))
    }
}

impl std::ops::Deref for MockKafka {
    type Target = KafkaTestClient;

    fn deref(&self) -> &KafkaTestClient {
        &self.client
    }
}
