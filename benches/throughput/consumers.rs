//! (a), (b) and (c): consuming every message with the hand-written loop or with chalk-streams,
//! each in a process of its own, which prints what it cost.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chalk_streams::store::{FeatureStore, MemoryStore, SqliteStore};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message as _;
use rdkafka::ClientConfig;

use crate::kafka::{bench_stream, tokio_runtime, with_consumer_properties};
use crate::{fail, usage, UserUpdateBody, TOPIC};

/// Consumes every message with one variant; prints `wall_seconds cpu_seconds peak_rss_kib`.
pub fn run_variant(variant: &str, bootstrap: &str, messages: u64) {
    let started = Instant::now();
    match variant {
        "a" => hand_written(bootstrap, messages),
        "b" => framework(bootstrap, messages, Arc::new(MemoryStore::new())),
        "c" => {
            let dir = std::env::temp_dir().join(format!("chalk-bench-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            let store = SqliteStore::open(dir.join("features.sqlite"))
                .unwrap_or_else(|e| fail(&e.to_string()));
            framework(bootstrap, messages, Arc::new(store));
            let _ = std::fs::remove_dir_all(&dir);
        }
        other => fail(&format!("unknown variant {other}")),
    }
    let wall = started.elapsed().as_secs_f64();
    let (cpu, rss) = usage();
    println!("{wall} {cpu} {rss}");
}

/// The limit of this stack: poll, decode, insert, store the offset.
fn hand_written(bootstrap: &str, messages: u64) {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("bench-a-{}", std::process::id()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false");
    let consumer: BaseConsumer = with_consumer_properties(config)
        .create()
        .unwrap_or_else(|e| fail(&e.to_string()));
    consumer
        .subscribe(&[TOPIC])
        .unwrap_or_else(|e| fail(&e.to_string()));
    let mut features: HashMap<String, String> = HashMap::new();
    let mut seen = 0;
    while seen < messages {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                if let Some(payload) = message.payload() {
                    if let Ok(body) = serde_json::from_slice::<UserUpdateBody>(payload) {
                        features.insert(body.user_id, body.favorite_color);
                    }
                }
                let _ = consumer.store_offset_from_message(&message);
                seen += 1;
            }
            Some(Err(e)) => eprintln!("consumer error: {e}"),
            None => {}
        }
    }
    drop(consumer);
}

/// The `bench` stream, run by the chalk-streams runtime until it has processed everything.
fn framework(bootstrap: &str, messages: u64, store: Arc<dyn FeatureStore>) {
    tokio_runtime().block_on(async {
        let running = bench_stream("bench", bootstrap, &[], |_| None)
            .store(store)
            .start()
            .await
            .unwrap_or_else(|e| fail(&e.to_string()));
        let stats = running.stats("bench").unwrap_or_else(|| fail("no stream"));
        let (snapshot, done) = stats
            .wait_for(Duration::from_secs(600), |s| s.handled() >= messages)
            .await;
        if !done {
            fail(&format!("only {} handled", snapshot.handled()));
        }
        let _ = running.shutdown().await;
    });
}
