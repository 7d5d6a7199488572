//! The check of timestamps ahead of the clock. In a mapping stream, a feature carries its
//! message's timestamp as its feature time, and a stored feature is replaced only by one at
//! least as new: a message stamped far ahead (in microseconds by mistake, which reads as fifty
//! thousand years from now) would keep every later value of its entity's features out until the
//! clock reached it, without a word. In a window stream, it would keep its window, and so hold
//! back the partition's commits, until then. Such a message fails in phase `parse`, as bad
//! input, and is dead-lettered if the source has a topic for it.

use std::time::Duration;

use crate::message::Timestamp;
use crate::resolver::{MessageError, Phase};

/// How far ahead of the clock a mapping stream's message may be stamped by default: an hour,
/// the limit Kafka's brokers put on producers' timestamps by default since Kafka 4.0
/// (`log.message.timestamp.after.max.ms`).
pub const DEFAULT_MAX_TIMESTAMP_LEAD: Duration = Duration::from_secs(60 * 60);

/// The failure of a mapping stream's message stamped more than `lead` ahead of `now`, if it is.
pub(crate) fn too_far_ahead(
    timestamp: Timestamp,
    now: Timestamp,
    lead: Duration,
) -> Option<MessageError> {
    ahead(
        timestamp,
        now,
        lead,
        "stored, its feature time would keep every later value of the entity's features out \
         until then",
    )
}

/// The failure of a window stream's message stamped more than `lead` ahead of `now` (when it
/// was first read), if it is.
pub(crate) fn too_far_ahead_of_windows(
    timestamp: Timestamp,
    now: Timestamp,
    lead: Duration,
) -> Option<MessageError> {
    ahead(
        timestamp,
        now,
        lead,
        "its window would hold back the partition's commits until then",
    )
}

fn ahead(timestamp: Timestamp, now: Timestamp, lead: Duration, why: &str) -> Option<MessageError> {
    let lead_millis = i64::try_from(lead.as_millis()).unwrap_or(i64::MAX);
    (timestamp.as_millis() > now.as_millis().saturating_add(lead_millis)).then(|| {
        MessageError::new(
            Phase::Parse,
            format!(
                "timestamp {timestamp} is more than {} ahead of the clock: {why}",
                humantime::format_duration(lead)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_timestamp_more_than_the_lead_ahead_fails() {
        let now = Timestamp::from_millis(1_800_000_000_000);
        let at = |ahead_ms: i64| Timestamp::from_millis(now.as_millis() + ahead_ms);
        let hour = Duration::from_secs(3600);
        assert!(too_far_ahead(at(-5_000), now, hour).is_none());
        assert!(
            too_far_ahead(at(3_600_000), now, hour).is_none(),
            "exactly the lead"
        );
        let error = too_far_ahead(at(3_600_001), now, hour).expect("too far");
        assert_eq!(error.phase, Phase::Parse);
        assert!(
            error.message.contains("more than 1h ahead of the clock"),
            "{}",
            error.message
        );
        let microseconds = Timestamp::from_millis(now.as_millis().saturating_mul(1000));
        assert!(too_far_ahead(microseconds, now, hour).is_some());
        assert!(
            too_far_ahead(microseconds, now, Duration::MAX).is_none(),
            "no limit"
        );
    }
}
