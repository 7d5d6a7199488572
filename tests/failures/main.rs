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
/// A bad message: its payload (`None`: tombstone), the phase it must fail in, and a fragment of
mod dead_letter_producer;
mod dead_letters;
mod fatal_error;
mod future_timestamps;
mod renewal_twice;
mod resolver_timeout;
mod shared_group;
mod store_faults;
mod topic_gone;
