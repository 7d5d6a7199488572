//! Helpers shared by the integration tests: a mock cluster with topics, and a runtime wired to it.

use std::time::Duration;

use chalk_streams::testing::MockKafka;
use chalk_streams::Runtime;

/// How long a test waits for an event before failing.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A mock cluster with each topic created with `partitions` partitions.
pub fn kafka_with_topics(topics: &[&str], partitions: i32) -> MockKafka {
    let kafka = MockKafka::start(1).expect("mock cluster starts");
    for topic in topics {
        kafka
            .create_topic(topic, partitions)
            .expect("topic created");
    }
    kafka
}

/// A runtime that runs only `streams`, on `kafka`, tuned for fast group joins.
pub fn runtime_for(kafka: &MockKafka, streams: &[&str]) -> Runtime {
    Runtime::from_registry()
        .expect("streams are registered")
        .only(streams)
        .expect("the streams exist")
        .bootstrap_servers(kafka.bootstrap_servers())
        .kafka_property("session.timeout.ms", "6000")
        .kafka_property("heartbeat.interval.ms", "500")
}
