//! The seed example: the latest favorite color per user, every offset committed.

use std::time::Duration;

use chalk_streams::prelude::*;
use chalk_streams::testing::{KafkaTestClient, Record};
use chalk_streams::FeatureValue;
use serde::Deserialize;
use serde_json::json;
use suite::{on_both_brokers, runtime_for, user_color, Broker, PATIENCE};

#[derive(Features, Default)]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<String>,
}

#[derive(Deserialize)]
struct UserUpdateBody {
    user_id: String,
    favorite_color: String,
}

pub(crate) static USER_UPDATES: KafkaSource =
    KafkaSource::new().topic("user_favorite_color_updates");

#[stream(source = USER_UPDATES)]
fn favorite_color(message: Message<UserUpdateBody>) -> User {
    User {
        uid: message.value.user_id,
        favorite_color: Some(message.value.favorite_color),
    }
}

fn update(user: &str, color: &str) -> Record {
    Record::json(
        "user_favorite_color_updates",
        &json!({"user_id": user, "favorite_color": color}),
    )
    .key(user)
}

on_both_brokers!(seed_example_writes_favorite_colors_and_commits_every_offset);
async fn seed_example_writes_favorite_colors_and_commits_every_offset(broker: Broker) {
    let kafka = broker
        .with_topics(&["user_favorite_color_updates"], 4)
        .await;
    let users = 40;
    for i in 0..users {
        kafka
            .produce(&update(&format!("u{i}"), "red"))
            .await
            .expect("produce");
    }
    // A later update of u0 must win over the earlier one.
    kafka.produce(&update("u0", "blue")).await.expect("produce");

    let running = runtime_for(&kafka, &["mapping_streams::seed::favorite_color"])
        .start()
        .await
        .expect("runtime starts");
    let stats = running
        .stats("mapping_streams::seed::favorite_color")
        .expect("stream runs");
    let (snapshot, done) = stats.wait_for(PATIENCE, |s| s.processed == users + 1).await;
    assert!(done, "all messages processed: {snapshot:?}");
    assert_eq!(snapshot.failed, 0);
    assert_eq!(snapshot.rows_written, users + 1);

    let store = running.store();
    assert_eq!(
        user_color(&*store, "u0").await,
        Some(FeatureValue::String("blue".into()))
    );
    for i in 1..users {
        assert_eq!(
            user_color(&*store, &format!("u{i}")).await,
            Some(FeatureValue::String("red".into())),
            "u{i}"
        );
    }
    // Offsets are committed while the stream runs (every second), not only when it stops.
    let all = i64::try_from(users + 1).expect("small");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (total, committed) = favorite_color_committed(&kafka).await;
        if total == all {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "committed while running: {committed:?}"
        );
        // The broker cannot tell us when a commit lands: ask again shortly.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.shutdown().await.expect("clean shutdown");

    let (total, committed) = favorite_color_committed(&kafka).await;
    assert_eq!(
        total, all,
        "every message's offset is committed: {committed:?}"
    );
}

/// The `favorite_color` group's committed offsets in all, and per partition.
async fn favorite_color_committed(kafka: &KafkaTestClient) -> (i64, Vec<Option<i64>>) {
    let committed = kafka
        .committed_offsets(
            "chalk/mapping_streams::seed::favorite_color",
            "user_favorite_color_updates",
            4,
        )
        .await
        .expect("committed offsets");
    (committed.iter().map(|o| o.unwrap_or(0)).sum(), committed)
}
