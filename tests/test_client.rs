//! The Kafka client applications use in their own tests (`KafkaTestClient`, which `MockKafka`
//! derefs to), on the in-process mock cluster.

use std::time::Duration;

use chalk_streams::testing::{MockKafka, Record};

/// A dead-letter topic, say, that the runtime has not written to yet: the read waits for it
/// rather than failing at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_read_of_a_topic_not_created_yet_waits_and_returns_what_arrived() {
    let kafka = MockKafka::start(1).expect("mock cluster");
    let read = kafka.read("not_yet", 1, Duration::from_secs(2)).await;
    assert!(
        matches!(&read, Ok(records) if records.is_empty()),
        "{read:?}"
    );

    kafka.create_topic("not_yet", 1).expect("topic created");
    kafka
        .produce(&Record::bytes("not_yet", "hello"))
        .await
        .expect("produced");
    let read = kafka
        .read("not_yet", 1, Duration::from_secs(30))
        .await
        .expect("read");
    assert_eq!(read.len(), 1);
}
