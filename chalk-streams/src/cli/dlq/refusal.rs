//! Which failures to send a letter back `--skip-failed` passes over.

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

/// Whether the brokers (or the producer, before sending) refused this one message in a way
/// that sending it again would not change: too large, or invalid. A timeout, a lost connection,
/// a producer that failed for good, a topic this client may not write or a broker policy is
/// not about the message: every later letter would be refused too, and skipped, where the fix
/// is elsewhere. A timestamp refused is the letter's only with `new_timestamps`: else the topic
/// refuses the original's time (its `message.timestamp.*` limits), and the replay's would pass.
pub(super) fn refused_for_good(error: &KafkaError, new_timestamps: bool) -> bool {
    match error {
        KafkaError::MessageProduction(code) => match code {
            RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::MessageBatchTooLarge
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::InvalidRecord => true,
            RDKafkaErrorCode::InvalidTimestamp => new_timestamps,
            _ => false,
        },
        _ => false,
    }
}

/// What the error of a replay stopped by `error` adds: the option that gets past it, if any.
pub(super) fn hint(error: &KafkaError, new_timestamps: bool) -> &'static str {
    if refused_for_good(error, new_timestamps) {
        "; --skip-failed skips a letter the brokers refuse and goes on"
    } else if matches!(
        error,
        KafkaError::MessageProduction(RDKafkaErrorCode::InvalidTimestamp)
    ) {
        "; the topic refuses the original's timestamp (see its `message.timestamp.*` settings): \
         --new-timestamps sends the letters with the replay's time"
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
        let refused = |code| refused_for_good(&produce(code), false);
        assert!(refused(RDKafkaErrorCode::MessageSizeTooLarge));
        assert!(refused(RDKafkaErrorCode::InvalidRecord));
        assert!(!refused(RDKafkaErrorCode::TopicAuthorizationFailed));
        assert!(!refused(RDKafkaErrorCode::MessageTimedOut));
        assert!(!refused(RDKafkaErrorCode::Fatal));
        assert!(!refused(RDKafkaErrorCode::ClusterAuthorizationFailed));
        assert!(!refused(RDKafkaErrorCode::PolicyViolation));
        assert!(!refused_for_good(&KafkaError::Canceled, false));
        // The original's time refused: `--new-timestamps` gets past it, not skipping.
        let old = produce(RDKafkaErrorCode::InvalidTimestamp);
        assert!(!refused_for_good(&old, false));
        assert!(hint(&old, false).contains("--new-timestamps"));
        assert!(refused_for_good(&old, true));
    }
}
