//! Redis as the online store of a running stream, through an outage: the server is killed
//! mid-stream and started again; the partition waits, resumes by itself, and loses nothing.

use std::sync::Arc;

use chalk_streams::prelude::*;
use chalk_streams::store::{FeatureStore, RedisStore};
use chalk_streams::testing::Record;
use chalk_streams::FeatureValue;
use serde::Deserialize;
use serde_json::json;
use suite::{kafka_with_topics, runtime_for, RedisServer, PATIENCE};

#[derive(Deserialize)]
struct Visit {
    user: String,
    page: String,
}

#[derive(Features)]
struct Visitor {
    #[primary]
    user: String,
    last_page: String,
}

static VISITS: KafkaSource = KafkaSource::new().topic("visits");

#[stream(source = VISITS, name = "visits")]
fn visits(visit: Visit) -> Visitor {
    Visitor {
        user: visit.user,
        last_page: visit.page,
    }
}

fn batch(from: u32, to: u32) -> Vec<Record> {
    (from..to)
        .map(|i| {
            Record::json(
                "visits",
                &json!({"user": format!("v{i}"), "page": format!("/p{i}")}),
            )
            .partition((i % 2) as i32)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_mid_stream_loses_nothing() {
    let kafka = kafka_with_topics(&["visits"], 2);
    let mut redis = RedisServer::start();
    let store = Arc::new(RedisStore::open(&redis.url()).expect("store"));
    let running = runtime_for(&kafka, &["visits"])
        .store(store.clone())
        .start()
        .await
        .expect("starts");
    let stats = running.stats("visits").expect("stream");

    kafka.produce_all(&batch(0, 200)).await.expect("produce");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed == 200).await;
    assert!(done, "before the outage: {s:?}");

    redis.kill();
    kafka.produce_all(&batch(200, 400)).await.expect("produce");
    let (s, failing) = stats.wait_for(PATIENCE, |s| s.retries >= 2).await;
    assert!(failing, "writes fail while Redis is down: {s:?}");
    assert_eq!(s.failed, 0, "an unavailable store is not a bad message");
    let committable: i64 = stats.stored_offsets().values().sum();
    assert_eq!(
        committable, 200,
        "nothing past the unwritten messages is committed"
    );

    redis.restart();
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed == 400).await;
    assert!(done, "after the outage: {s:?}");
    running.shutdown().await.expect("clean shutdown");

    for i in 0..400 {
        let visitor = store
            .entity("visitor", &format!("v{i}"))
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("v{i} stored"));
        assert_eq!(
            visitor.features["last_page"].value,
            FeatureValue::String(format!("/p{i}"))
        );
    }
    let committed: i64 = kafka
        .committed_offsets("chalk/visits", "visits", 2)
        .await
        .expect("committed")
        .iter()
        .map(|o| o.unwrap_or(0))
        .sum();
    assert_eq!(committed, 400);
}
