//! A fatal consumer error: a static member fenced by another with its `group.instance.id`.

use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::*;

static FENCED: KafkaSource = KafkaSource::new().topic("fenced");

#[stream(source = FENCED, name = "fenced")]
fn fenced(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

/// librdkafka ends a consumer for good when the group fences its static member. The stream
/// says why and counts as not ready, so that whatever runs the process restarts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_static_member_makes_the_stream_not_ready_and_says_why() {
    let kafka = kafka_with_topics(&["fenced"], 1);
    kafka
        .produce(&Record::json("fenced", &json!({"id": "o1", "quantity": 1})))
        .await
        .expect("produce");
    let running = runtime_for(&kafka, &["fenced"])
        .kafka_property("group.instance.id", "fenced-member")
        .start()
        .await
        .expect("starts");
    let stats = running.stats("fenced").expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 1).await;
    assert!(done, "{s:?}");
    let observed = chalk_streams::observe::ObservedStreams::from(&running);
    assert!(observed.stalled().is_empty());
    assert_eq!(stats.fatal_error(), None);
    assert_eq!(s.consumer_failed, 0);

    kafka.cluster().expect("cluster").request_errors(
        RDKafkaApiKey::Heartbeat,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID],
    );
    suite::wait_until(&[&*stats], || stats.fatal_error().is_some()).await;
    let error = stats.fatal_error().expect("a fatal error");
    assert!(error.contains("fenced"), "{error}");
    assert_eq!(observed.stalled(), ["fenced"], "not ready");
    // Alerts that watch the gauges see it too: the partitions stay assigned, not stalled.
    assert_eq!(stats.snapshot().consumer_failed, 1);
    running.shutdown().await.expect("stops");
}
