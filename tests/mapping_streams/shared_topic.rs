//! Two streams on one topic: each has its own group and sees every message.

use chalk_streams::prelude::*;
use chalk_streams::testing::Record;
use chalk_streams::FeatureValue;
use serde::Deserialize;
use serde_json::json;
use suite::{on_both_brokers, runtime_for, Broker, PATIENCE};

static SHARED_TOPIC: KafkaSource = KafkaSource::new().topic("shared_topic");

#[derive(Features)]
struct Reading {
    #[primary]
    id: String,
    doubled: Option<i64>,
    tripled: Option<i64>,
}

#[derive(Deserialize)]
struct ReadingBody {
    id: String,
    value: i64,
}

#[stream(source = SHARED_TOPIC, name = "doubler")]
fn doubler(body: ReadingBody) -> Reading {
    Reading {
        id: body.id,
        doubled: Some(body.value * 2),
        tripled: None,
    }
}

#[stream(source = SHARED_TOPIC, name = "tripler")]
async fn tripler(body: ReadingBody) -> Reading {
    Reading {
        id: body.id,
        doubled: None,
        tripled: Some(body.value * 3),
    }
}

on_both_brokers!(two_streams_on_one_topic_each_see_every_message);
async fn two_streams_on_one_topic_each_see_every_message(broker: Broker) {
    let kafka = broker.with_topics(&["shared_topic"], 3).await;
    for i in 0..30 {
        kafka
            .produce(&Record::json(
                "shared_topic",
                &json!({"id": format!("r{i}"), "value": i}),
            ))
            .await
            .expect("produce");
    }
    let running = runtime_for(&kafka, &["doubler", "tripler"])
        .start()
        .await
        .expect("starts");
    for name in ["doubler", "tripler"] {
        let (s, done) = running
            .stats(name)
            .expect("stream")
            .wait_for(PATIENCE, |s| s.processed == 30)
            .await;
        assert!(done, "{name}: {s:?}");
    }
    let store = running.store();
    for i in 0..30_i64 {
        let reading = store
            .entity("reading", &format!("r{i}"))
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(reading.features["doubled"].value, FeatureValue::Int(2 * i));
        assert_eq!(reading.features["tripled"].value, FeatureValue::Int(3 * i));
    }
    running.shutdown().await.expect("clean shutdown");
    for group in ["chalk/doubler", "chalk/tripler"] {
        let committed: i64 = kafka
            .committed_offsets(group, "shared_topic", 3)
            .await
            .expect("committed")
            .iter()
            .map(|o| o.unwrap_or(0))
            .sum();
        assert_eq!(committed, 30, "group {group} committed its own offsets");
    }
}
