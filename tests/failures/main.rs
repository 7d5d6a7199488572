//! Nothing lost, nothing stuck: bad input to the dead-letter queue, resolver errors and panics,
//! a store that is down or refuses rows, broker faults, and two processes sharing a group.
//! Every test asserts on the store's contents and on committed offsets.

use std::sync::Arc;

use chalk_streams::dlq;
use chalk_streams::prelude::*;
use chalk_streams::store::{FeatureStore, MemoryStore, StoreError};
use chalk_streams::testing::{KafkaTestClient, Record};
use rdkafka::message::{Headers as _, Message as _, OwnedMessage};
use serde::Deserialize;
use serde_json::json;
use suite::{kafka_with_topics, on_both_brokers, run_until_handled, runtime_for, Broker, PATIENCE};

#[derive(Deserialize)]
struct Order {
    id: String,
    quantity: u8,
    /// Free-form JSON: where a hostile payload can nest deeply.
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<serde_json::Value>,
}

#[derive(Features)]
struct OrderFeatures {
    #[primary]
    id: String,
    quantity: i64,
}

fn order_features(order: Order) -> Result<OrderFeatures, String> {
    match order.id.as_str() {
        "explode" => panic!("the resolver exploded"),
        "refuse" => Err("orders named `refuse` are refused".to_owned()),
        _ => Ok(OrderFeatures {
            id: order.id,
            quantity: i64::from(order.quantity),
        }),
    }
}

fn header<'a>(message: &'a OwnedMessage, name: &str) -> Option<&'a str> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// Asserts that `topic`'s `partitions` hold exactly `letters`, `count` of them: its end offsets
/// add up to `count` (the topic being new), so a letter sent twice is one too many, which a read
/// of `count` messages cannot show.
async fn assert_holds_exactly(
    kafka: &KafkaTestClient,
    topic: &str,
    partitions: i32,
    letters: &[OwnedMessage],
    count: usize,
) {
    use rdkafka::consumer::{BaseConsumer, Consumer as _};
    assert_eq!(letters.len(), count, "read from `{topic}`");
    let (bootstrap, name) = (kafka.bootstrap_servers().to_owned(), topic.to_owned());
    let held: i64 = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .expect("a client");
        (0..partitions)
            .map(|partition| {
                let (low, high) = consumer
                    .fetch_watermarks(&name, partition, PATIENCE)
                    .expect("watermarks");
                high - low
            })
            .sum()
    })
    .await
    .expect("joined");
    assert_eq!(
        held,
        i64::try_from(count).expect("small"),
        "messages in `{topic}`: each once"
    );
}

async fn committed_total(
    kafka: &KafkaTestClient,
    group: &str,
    topic: &str,
    partitions: i32,
) -> i64 {
    kafka
        .committed_offsets(group, topic, partitions)
        .await
        .expect("committed offsets")
        .iter()
        .map(|o| o.unwrap_or(0))
        .sum()
}

mod broker_faults;
mod dead_letter_producer;
mod dead_letters;
mod fatal_error;
mod future_timestamps;
mod refused_reads;
mod renewal_twice;
mod resolver_timeout;
mod shared_group;
mod store_faults;
mod topic_gone;
mod unlogged_failures;
mod write_behind;
