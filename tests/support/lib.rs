//! Helpers shared by the integration tests: a mock cluster with topics, and a runtime wired to it.

use std::time::Duration;

use chalk_streams::runtime::StreamStats;
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

/// Waits until `done` holds, re-checking whenever any of `stats` changes; panics after
/// [`PATIENCE`].
pub async fn wait_until(stats: &[&StreamStats], done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut changes: Vec<_> = stats.iter().map(|s| Box::pin(s.next_change())).collect();
        for change in &mut changes {
            change.as_mut().enable();
        }
        if done() {
            return;
        }
        let any_change = futures::future::select_all(changes);
        if tokio::time::timeout_at(deadline, any_change).await.is_err() {
            panic!("condition not reached within {PATIENCE:?}");
        }
    }
}
