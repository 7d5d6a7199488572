//! A window stream: failed logins per user in 10-minute and 1-hour tumbling windows.
//!
//! ```text
//! cargo run --example failed_logins -- run --embedded
//! ```
//!
//! The embedded demo produces login attempts from the last hour and a half; windows that have
//! already ended fire at once, each output stamped with its window's end, and the counts are
//! stored as `num_failed_logins[10m]` and `num_failed_logins[1h]`.

use chalk_streams::prelude::*;
use chalk_streams::testing::Record;
use serde::Deserialize;

/// A login attempt, keyed by user: messages of one key land in the same windows.
#[derive(Deserialize)]
struct LoginAttempt {
    user: String,
    success: bool,
}

/// The entity the stream computes features for.
#[derive(Features, Default)]
struct User {
    #[primary]
    uid: String,
    num_failed_logins: Option<i64>,
}

/// Attempts more than two hours late are skipped; later ones correct their windows.
static LOGINS: KafkaSource = KafkaSource::new()
    .topic("login_attempts")
    .late_arrival_deadline_str("2h");

#[stream(source = LOGINS, window = ["10m", "1h"])]
fn failed_logins(attempts: Vec<Message<LoginAttempt>>) -> Option<User> {
    let uid = attempts.first()?.value.user.clone();
    let failed = attempts.iter().filter(|a| !a.value.success).count();
    Some(User {
        uid,
        num_failed_logins: i64::try_from(failed).ok(),
    })
}

/// Login attempts spread over the last 90 minutes.
fn samples() -> Vec<Record> {
    let now = Timestamp::now().as_millis();
    let attempts = [
        ("alice", false, 85),
        ("alice", false, 84),
        ("alice", true, 83),
        ("bob", false, 70),
        ("alice", false, 42),
        ("bob", false, 41),
        ("bob", false, 40),
        ("alice", false, 15),
    ];
    attempts
        .into_iter()
        .map(|(user, success, minutes_ago)| {
            Record::json(
                "login_attempts",
                &serde_json::json!({"user": user, "success": success}),
            )
            .key(user)
            .timestamp(Timestamp::from_millis(now - minutes_ago * 60_000))
        })
        .collect()
}

fn main() -> chalk_streams::Result<()> {
    chalk_streams::App::new().sample_records(samples()).main()
}

/// The stream tested without a broker, on the tester's clock: `cargo test --example
/// failed_logins`.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chalk_streams::testing::{MessageStatus, StreamTester, TestMessage};
    use chalk_streams::{FeatureValue, Timestamp};

    fn attempt(user: &str, success: bool, at: Timestamp) -> TestMessage {
        TestMessage::json(&serde_json::json!({"user": user, "success": success}))
            .key(user)
            .timestamp(at)
    }

    #[tokio::test]
    async fn each_window_counts_its_failed_logins_when_it_ends() {
        let mut tester = StreamTester::new("failed_logins::failed_logins").expect("declared");
        // The start of an hour: both window sizes start there.
        let hour = {
            let now = tester.clock().now().as_millis();
            now - now.rem_euclid(3_600_000)
        };
        tester.clock().set(Timestamp::from_millis(hour));
        let minute = |m: i64| Timestamp::from_millis(hour + m * 60_000);
        for (success, at) in [(false, 1), (false, 2), (true, 3), (false, 12)] {
            let status = tester.send(attempt("alice", success, minute(at))).await;
            assert_eq!(status, MessageStatus::Windowed);
        }

        // The first 10-minute window ends: two failures in it.
        let fired = tester.advance(Duration::from_secs(10 * 60)).await;
        assert_eq!(fired.len(), 1);
        assert_eq!((fired[0].size, fired[0].end), ("10m", minute(10)));
        let rows = fired[0].result.as_ref().expect("resolved");
        assert_eq!(rows[0].primary_key, "alice");
        assert_eq!(
            rows[0].values,
            [("num_failed_logins[10m]", FeatureValue::Int(2))]
        );

        // The hour ends, with the second 10-minute window long before: one failure in that one,
        // three in the hour.
        let fired = tester.advance(Duration::from_secs(50 * 60)).await;
        let counts: Vec<_> = fired
            .iter()
            .map(|window| {
                let rows = window.result.as_ref().expect("resolved");
                (window.size, window.end, rows[0].values[0].1.clone())
            })
            .collect();
        assert_eq!(
            counts,
            [
                ("10m", minute(20), FeatureValue::Int(1)),
                ("1h", minute(60), FeatureValue::Int(3)),
            ]
        );
    }
}
