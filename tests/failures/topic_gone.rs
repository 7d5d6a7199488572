//! Commits refused because the brokers no longer know the topic (it was deleted): what this
//! process had processed of it is not passed over when its partitions come back, since a topic
//! made anew starts again at offset 0 with messages never seen. The mock cluster cannot delete a
//! topic, so its commits are answered as for a deleted one.

use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::*;
use suite::wait_until;

static TOPIC_GONE: KafkaSource = KafkaSource::new().topic("topic_gone");

#[stream(source = TOPIC_GONE, name = "topic_gone")]
fn topic_gone(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_whose_commit_finds_the_topic_unknown_are_read_again_from_the_committed_offset()
{
    let kafka = kafka_with_topics(&["topic_gone"], 2);
    kafka.cluster().expect("cluster").request_errors(
        RDKafkaApiKey::OffsetCommit,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART; 1000],
    );
    let orders: Vec<Record> = (0..100)
        .map(|i| {
            Record::json("topic_gone", &json!({"id": format!("o{i}"), "quantity": 1}))
                .partition(i % 2)
        })
        .collect();
    kafka.produce_all(&orders).await.expect("produce");
    let a = runtime_for(&kafka, &["topic_gone"])
        .start()
        .await
        .expect("a starts");
    let stats_a = a.stats("topic_gone").expect("stream");
    let (s, done) = stats_a.wait_for(PATIENCE, |s| s.processed == 100).await;
    assert!(done, "{s:?}");

    // A second member joins, then leaves: each time the (eager) rebalance takes every partition
    // from `a`, whose commit at the hand-back is refused, and gives them back.
    let b = runtime_for(&kafka, &["topic_gone"])
        .start()
        .await
        .expect("b starts");
    let stats_b = b.stats("topic_gone").expect("stream");
    // Nothing is committed, so each reads its partition from the start: `a` again the 50
    // messages of the one it keeps. Passing over what it had processed (as after a commit
    // refused for another reason) would pass over the first messages of a topic made anew.
    wait_until(&[&stats_a, &stats_b], || {
        let (a, b) = (stats_a.snapshot(), stats_b.snapshot());
        a.assigned_partitions == 1
            && b.assigned_partitions == 1
            && a.processed >= 150
            && b.processed >= 50
    })
    .await;
    b.shutdown().await.expect("b stops cleanly");

    // Then `a` reads both again: 100 more. (At least: another rebalance would read them again;
    // a partition passed over would leave it at 200.)
    let (s, done) = stats_a
        .wait_for(PATIENCE, |s| {
            s.assigned_partitions == 2 && s.processed >= 250
        })
        .await;
    assert!(done, "a reads again what it had processed: {s:?}");
    a.shutdown().await.expect("a stops cleanly");
}
