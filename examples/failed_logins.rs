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
