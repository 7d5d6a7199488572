//! A broker that goes down or answers requests with errors.

use std::time::Duration;

use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::*;

static FAULTY_BROKER: KafkaSource = KafkaSource::new()
    .topic("faulty_broker")
    .dead_letter_queue_topic("faulty_broker_dlq");

#[stream(source = FAULTY_BROKER, name = "faulty_broker")]
fn faulty_broker(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

fn orders_batch(topic: &str, from: u64, to: u64) -> Vec<Record> {
    (from..to)
        .map(|i| {
            let id = if i % 10 == 9 {
                "refuse".to_owned()
            } else {
                format!("o{i}")
            };
            Record::json(topic, &json!({"id": id, "quantity": 1})).key(format!("k{i}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_and_injected_request_errors_lose_and_skip_nothing() {
    let kafka = kafka_with_topics(&["faulty_broker", "faulty_broker_dlq"], 3);
    kafka
        .produce_all(&orders_batch("faulty_broker", 0, 100))
        .await
        .expect("produce");
    let running = runtime_for(&kafka, &["faulty_broker"])
        .start()
        .await
        .expect("starts");
    let stats = running.stats("faulty_broker").expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 100).await;
    assert!(done, "{s:?}");

    // The broker goes away for two seconds while more messages are on their way.
    kafka
        .cluster()
        .expect("cluster")
        .broker_down(-1)
        .expect("broker down");
    let batch = orders_batch("faulty_broker", 100, 200);
    let more = kafka.produce_all(&batch);
    let outage = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        kafka
            .cluster()
            .expect("cluster")
            .broker_up(-1)
            .expect("broker up");
    };
    let (produced, ()) = tokio::join!(more, outage);
    produced.expect("produce after the outage");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 200).await;
    assert!(done, "after the outage: {s:?}");

    // Transient errors on fetch, offset commit and the dead-letter producer.
    {
        let cluster = kafka.cluster().expect("cluster");
        let transient = [
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__TRANSPORT,
        ];
        cluster.request_errors(RDKafkaApiKey::Fetch, &transient);
        cluster.request_errors(RDKafkaApiKey::OffsetCommit, &transient);
        cluster.request_errors(RDKafkaApiKey::Produce, &transient);
    }
    kafka
        .produce_all(&orders_batch("faulty_broker", 200, 300))
        .await
        .expect("produce");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 300).await;
    assert!(done, "after request errors: {s:?}");
    assert_eq!((s.processed, s.failed, s.dead_lettered), (270, 30, 30));
    let store = running.store();
    running.shutdown().await.expect("clean shutdown");
    let committed = kafka
        .committed_offsets("chalk/faulty_broker", "faulty_broker", 3)
        .await
        .expect("committed offsets");
    assert_eq!(
        committed.iter().map(|o| o.unwrap_or(0)).sum::<i64>(),
        300,
        "committed {committed:?}; handed to Kafka for commit {:?}",
        stats.stored_offsets()
    );
    for i in (0..300).filter(|i| i % 10 != 9) {
        assert!(store
            .entity("order_features", &format!("o{i}"))
            .await
            .expect("read")
            .is_some());
    }
    let letters = kafka
        .read("faulty_broker_dlq", 30, PATIENCE)
        .await
        .expect("read");
    // Every failure dead-lettered, once, after the broker answered again.
    assert_holds_exactly(&kafka, "faulty_broker_dlq", 3, &letters, 30).await;
}
