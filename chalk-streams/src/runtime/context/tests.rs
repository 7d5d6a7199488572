//! The rebalance callbacks driven by hand, on the mock cluster: orders of events a group
//! cannot be made to produce on demand.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::StreamContext;
use crate::duration::LateArrivalDeadline;
use crate::features::{FeatureRow, FeatureValue};
use crate::message::RawMessage;
use crate::registry::StreamDescriptor;
use crate::resolver::{MessageError, Resolver};
use crate::runtime::clock::SystemClock;
use crate::runtime::partition::KafkaConsumer;
use crate::runtime::{StreamShared, StreamStats};
use crate::source::KafkaSource;
use crate::store::MemoryStore;
use crate::testing::{MockKafka, Record};

const TOPIC: &str = "assigned_twice";
const PATIENCE: Duration = Duration::from_secs(20);

/// One row per message, keyed by its payload.
fn row_per_message(raw: &RawMessage<'_>, rows: &mut Vec<FeatureRow>) -> Result<(), MessageError> {
    rows.push(FeatureRow {
        namespace: "message",
        primary_key: String::from_utf8_lossy(raw.payload.unwrap_or_default()).into_owned(),
        values: vec![("offset", FeatureValue::Int(raw.offset))],
        time: crate::message::Timestamp::from_millis(1),
    });
    Ok(())
}

static SOURCE: KafkaSource = KafkaSource::new();
static STREAM: StreamDescriptor = StreamDescriptor::new(
    "assigned_twice",
    "assigned_twice",
    &SOURCE,
    Resolver::Sync(row_per_message),
    "src/a.rs",
    1,
);

fn records(from: u32, to: u32) -> Vec<Record> {
    (from..to)
        .map(|i| Record::bytes(TOPIC, format!("m{i}")))
        .collect()
}

/// librdkafka can hand the application an assignment without revoking the one before (a rejoin
/// while an assignment waits to be served). The partition's first worker is handed back as at
/// a revoke, and the second reads on: one worker per partition, none stalled, nothing missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_without_a_revoke_leaves_one_worker_reading_the_partition() {
    let kafka = MockKafka::start(1).expect("mock cluster");
    kafka.create_topic(TOPIC, 1).expect("topic");
    kafka.produce_all(&records(0, 3)).await.expect("produce");
    let stats = Arc::new(StreamStats::default());
    let shared = Arc::new(StreamShared {
        descriptor: &STREAM,
        deadline: LateArrivalDeadline::Infinity,
        store: Arc::new(MemoryStore::new()),
        stats: Arc::clone(&stats),
        handle: tokio::runtime::Handle::current(),
        drain_timeout: PATIENCE,
        dlq: None,
        clock: Arc::new(SystemClock),
        window_retention: Duration::from_secs(3600),
        max_timestamp_lead: Duration::from_secs(3600),
        take_batches: true,
        window_marks: Default::default(),
        rebalances: Default::default(),
    });
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", kafka.bootstrap_servers())
        .set("group.id", "assigned_twice")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let consumer: Arc<KafkaConsumer> = Arc::new(
        config
            .create_with_context(StreamContext::new(Arc::clone(&shared)))
            .expect("consumer"),
    );
    consumer.context().attach(&consumer);
    // What the callbacks are handed as the consumer: one that has joined no group, as eager
    // as a group's.
    let callbacks: BaseConsumer<StreamContext> = config
        .create_with_context(StreamContext::new(Arc::clone(&shared)))
        .expect("consumer");
    let mut partitions = TopicPartitionList::new();
    partitions
        .add_partition_offset(TOPIC, 0, Offset::Beginning)
        .expect("partition");
    consumer.assign(&partitions).expect("assign");
    let assign = || {
        consumer
            .context()
            .post_rebalance(&callbacks, &Rebalance::Assign(&partitions));
        consumer.context().release_workers();
    };

    // Offsets kept past a failed commit: the assigned partition's, which this process had
    // processed up to 2, and one of a partition owned elsewhere since (deleted and made anew
    // with its topic, say), which the assignment forgets, so that it is not passed over.
    let elsewhere: Arc<str> = Arc::from("owned_elsewhere");
    stats.record_stored_offset(&elsewhere, 0, 5000);
    stats.record_stored_offset(&Arc::from(TOPIC), 0, 2);
    assign();
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 1).await;
    assert!(done, "the first worker reads: {s:?}");
    assert_eq!(stats.stored_offset(&elsewhere, 0), None);
    assert_eq!(
        (s.processed, stats.stored_offset(&Arc::from(TOPIC), 0)),
        (1, Some(3)),
        "the assigned partition's is kept: what was processed before it is passed over"
    );

    assign();
    kafka.produce_all(&records(3, 6)).await.expect("produce");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed == 4).await;
    assert!(done, "the second worker reads what comes after: {s:?}");
    assert_eq!(
        (s.assigned_partitions, s.stalled_partitions),
        (1, 0),
        "one worker for the partition, the first stopped as asked"
    );
    consumer.context().stop_workers(None, PATIENCE);
}
