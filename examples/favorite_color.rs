//! The seed's stream: users' favorite colors, from Kafka JSON messages into the feature store.
//!
//! Run it with no broker to install:
//!
//! ```text
//! cargo run --example favorite_color -- run --embedded
//! ```
//!
//! On a real cluster, set `KAFKA_BOOTSTRAP_SERVER` (or `user_updates_KAFKA_BOOTSTRAP_SERVER`
//! for a named source) and run `cargo run --example favorite_color -- run`.

use chalk_streams::prelude::*;
use serde::Deserialize;

/// The entity the stream computes features for.
#[derive(Features, Default)]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<String>,
}

/// The JSON body of a message on `user_favorite_color_updates` (its JSON Schema goes into the
/// AsyncAPI document: `cargo run --example favorite_color -- asyncapi`).
#[derive(Deserialize, schemars::JsonSchema)]
struct UserUpdateBody {
    user_id: String,
    favorite_color: String,
}

/// The brokers come from `KAFKA_BOOTSTRAP_SERVER` (or `--embedded`); the topic is fixed here.
static USER_UPDATES: KafkaSource = KafkaSource::new()
    .topic("user_favorite_color_updates")
    .late_arrival_deadline(Duration::from_secs(30 * 60));

#[stream(source = USER_UPDATES)]
fn favorite_color(message: Message<UserUpdateBody>) -> User {
    User {
        uid: message.value.user_id,
        favorite_color: Some(message.value.favorite_color),
    }
}

fn main() -> chalk_streams::Result<()> {
    chalk_streams::App::new()
        .samples(
            "user_favorite_color_updates",
            include_str!("favorite_color.jsonl"),
        )
        .main()
}

/// The stream tested without a broker: `cargo test --example favorite_color`.
#[cfg(test)]
mod tests {
    use chalk_streams::testing::{MessageStatus, StreamTester, TestMessage};
    use chalk_streams::FeatureValue;

    #[tokio::test]
    async fn a_color_update_sets_the_users_favorite_color() {
        let mut tester = StreamTester::new("favorite_color::favorite_color").expect("declared");
        let update = serde_json::json!({"user_id": "u1", "favorite_color": "teal"});
        let MessageStatus::Processed { rows } = tester.send(TestMessage::json(&update)).await
        else {
            panic!("the update is processed");
        };
        assert_eq!(rows[0].primary_key, "u1");
        assert_eq!(
            rows[0].values,
            [("favorite_color", FeatureValue::String("teal".into()))]
        );
    }

    #[tokio::test]
    async fn a_malformed_update_fails_to_parse() {
        let mut tester = StreamTester::new("favorite_color::favorite_color").expect("declared");
        let status = tester
            .send(TestMessage::bytes(r#"{"user_id": "u1"}"#))
            .await;
        assert!(
            matches!(&status, MessageStatus::Failed { error, .. } if error.contains("missing field `favorite_color`")),
            "{status:?}"
        );
    }
}
