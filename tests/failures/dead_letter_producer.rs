//! A dead-letter producer that fails for good: librdkafka ends an idempotent producer whose
//! producer id the cluster refuses, and every later send fails at once.

use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::*;

static REFUSED_PRODUCER: KafkaSource = KafkaSource::new()
    .topic("orders_refused_producer")
    .dead_letter_queue_topic("orders_refused_producer_dlq");

#[stream(source = REFUSED_PRODUCER, name = "orders_refused_producer")]
fn orders_refused_producer(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

/// The cluster refuses the dead-letter producer's first request for a producer id, which ends
/// that producer for good. The runtime starts a new one: the bad message is dead-lettered and
/// the partition goes on, rather than waiting on a producer that can never send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_producer_that_failed_for_good_is_replaced() {
    let kafka = kafka_with_topics(
        &["orders_refused_producer", "orders_refused_producer_dlq"],
        1,
    );
    let records = [
        Record::bytes("orders_refused_producer", "not json").key("bad"),
        Record::json(
            "orders_refused_producer",
            &json!({"id": "o1", "quantity": 1}),
        ),
    ];
    kafka.produce_all(&records).await.expect("produce");
    // The test client's own producer has its id already: the next request for one is the
    // runtime's dead-letter producer's.
    kafka.cluster().expect("cluster").request_errors(
        RDKafkaApiKey::InitProducerId,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED],
    );
    let running = runtime_for(&kafka, &["orders_refused_producer"])
        .start()
        .await
        .expect("starts");
    let stats = running.stats("orders_refused_producer").expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 2).await;
    assert!(done, "{s:?}");
    assert_eq!((s.processed, s.failed, s.dead_lettered), (1, 1, 1), "{s:?}");
    running.shutdown().await.expect("stops");

    let letters = kafka
        .read("orders_refused_producer_dlq", 1, PATIENCE)
        .await
        .expect("read");
    assert_holds_exactly(&kafka, "orders_refused_producer_dlq", 1, &letters, 1).await;
    assert_eq!(letters[0].payload(), Some(&b"not json"[..]));
}

static REFUSED_SETTING: KafkaSource = KafkaSource::new()
    .topic("orders_refused_setting")
    .dead_letter_queue_topic("orders_refused_setting_dlq")
    // librdkafka refuses it with idempotence, which the dead-letter producer has.
    .additional_kafka_args(&[("retries", "0")]);

#[stream(source = REFUSED_SETTING, name = "orders_refused_setting")]
fn orders_refused_setting(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

/// A setting the dead-letter producer cannot have stops start-up, and the error names that
/// producer and what chalk-streams sets on it, not only the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setting_the_dead_letter_producer_cannot_have_stops_start_up_naming_it() {
    let kafka = kafka_with_topics(&["orders_refused_setting", "orders_refused_setting_dlq"], 1);
    let error = match runtime_for(&kafka, &["orders_refused_setting"])
        .start()
        .await
    {
        Ok(_) => panic!("start-up must fail"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.starts_with(
            "stream `orders_refused_setting`: the Kafka client rejected its configuration: "
        ) && error.contains(
            "the dead-letter producer (chalk-streams sets acks=all and enable.idempotence=true)"
        ) && error.contains("retries"),
        "{error}"
    );
}
