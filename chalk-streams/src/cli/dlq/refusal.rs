//! Which failures to send a letter back `--skip-failed` passes over.

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

/// Whether the brokers (or the producer, before sending) refused this one message in a way
/// that sending it again would not change: too large, or invalid. A timeout, a lost connection,
/// a producer that failed for good, a topic this client may not write or a broker policy is
/// not about the message: every later letter would be refused too, and skipped, where the fix
/// is elsewhere. So is a timestamp refused (the topic's `message.timestamp.*` limits): its
/// fix is `--new-timestamps` or a clock, and with the replay's own time it is every letter's.
pub(super) fn refused_for_good(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidRecord
        )
    )
}

/// What the error of a replay stopped by `error` adds: what gets past it, if anything does.
pub(super) fn hint(error: &KafkaError, new_timestamps: bool) -> &'static str {
    let timestamp = matches!(
        error,
        KafkaError::MessageProduction(RDKafkaErrorCode::InvalidTimestamp)
    );
    if refused_for_good(error) {
        "; --skip-failed skips a letter the brokers refuse and goes on"
    } else if timestamp && !new_timestamps {
        "; the topic refuses the original's timestamp (see its `message.timestamp.*` settings): \
         --new-timestamps sends the letters with the replay's time"
    } else if timestamp {
        "; the topic refuses the replay's own time: compare this machine's clock with the \
         brokers' (and the topic's `message.timestamp.*` settings)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_of_the_message_itself_is_skipped() {
        let produce = |code| KafkaError::MessageProduction(code);
        let refused = |code| refused_for_good(&produce(code));
        assert!(refused(RDKafkaErrorCode::MessageSizeTooLarge));
        assert!(refused(RDKafkaErrorCode::InvalidRecord));
        assert!(!refused(RDKafkaErrorCode::TopicAuthorizationFailed));
        assert!(!refused(RDKafkaErrorCode::MessageTimedOut));
        assert!(!refused(RDKafkaErrorCode::Fatal));
        assert!(!refused(RDKafkaErrorCode::ClusterAuthorizationFailed));
        assert!(!refused(RDKafkaErrorCode::PolicyViolation));
        assert!(!refused_for_good(&KafkaError::Canceled));
        // A time refused: `--new-timestamps` gets past the originals', nothing past its own.
        let time = produce(RDKafkaErrorCode::InvalidTimestamp);
        assert!(!refused_for_good(&time));
        assert!(hint(&time, false).contains("--new-timestamps"));
        assert!(hint(&time, true).contains("this machine's clock"));
    }
}
