//! Which failures to send a letter back `--skip-failed` passes over.

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

/// Whether the brokers (or the producer, before sending) refused this one message in a way
/// that sending it again would not change: too large, or invalid. A timeout, a lost connection,
/// a producer that failed for good or a topic this client may not write is not about the
/// message: every later letter would be refused too, and skipped, where the fix is elsewhere.
pub(super) fn refused_for_good(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidTimestamp
                | RDKafkaErrorCode::PolicyViolation
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_of_the_message_itself_is_skipped() {
        let produce = |code| KafkaError::MessageProduction(code);
        assert!(refused_for_good(&produce(
            RDKafkaErrorCode::MessageSizeTooLarge
        )));
        assert!(refused_for_good(&produce(RDKafkaErrorCode::InvalidRecord)));
        assert!(!refused_for_good(&produce(
            RDKafkaErrorCode::TopicAuthorizationFailed
        )));
        assert!(!refused_for_good(&produce(
            RDKafkaErrorCode::MessageTimedOut
        )));
        assert!(!refused_for_good(&produce(RDKafkaErrorCode::Fatal)));
        assert!(!refused_for_good(&produce(
            RDKafkaErrorCode::ClusterAuthorizationFailed
        )));
        assert!(!refused_for_good(&KafkaError::Canceled));
    }
}
