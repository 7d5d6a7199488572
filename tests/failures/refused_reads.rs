//! A partition the brokers refuse to let the stream read (its principal may describe the topic,
//! not read it): the stream is not ready, and the partition counts as stalled, until the access
//! is granted and messages come again.

use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::*;

static REFUSED_READS: KafkaSource = KafkaSource::new().topic("refused_reads");

#[stream(source = REFUSED_READS, name = "refused_reads")]
fn refused_reads(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

fn order(i: u32) -> Record {
    Record::json(
        "refused_reads",
        &json!({"id": format!("o{i}"), "quantity": 1}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_whose_reads_are_refused_counts_as_stalled_until_they_are_not() {
    let kafka = kafka_with_topics(&["refused_reads"], 1);
    kafka.produce(&order(0)).await.expect("produce");
    let running = runtime_for(&kafka, &["refused_reads"])
        .start()
        .await
        .expect("starts");
    let stats = running.stats("refused_reads").expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed == 1).await;
    assert!(done, "{s:?}");
    assert_eq!(s.stalled_partitions, 0);

    // The principal loses its Read permission: the next fetches are refused.
    kafka.cluster().expect("cluster").request_errors(
        RDKafkaApiKey::Fetch,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 3],
    );
    let (s, done) = stats
        .wait_for(PATIENCE, |s| s.stalled_partitions == 1)
        .await;
    assert!(done, "refused reads count as stalled: {s:?}");

    // Granted again: a message comes, and the partition is read again.
    kafka.produce(&order(1)).await.expect("produce");
    let (s, done) = stats
        .wait_for(PATIENCE, |s| s.processed == 2 && s.stalled_partitions == 0)
        .await;
    assert!(done, "read again: {s:?}");
    running.shutdown().await.expect("clean shutdown");
}
