//! The Kafka clients of the commands that talk to brokers (`check`, `push`, `dlq replay`): the
//! probe and its quiet context, and producers whose librdkafka reports are kept, not printed.

use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;

use crate::error::{Error, Result};
pub(super) use crate::probe::{probe, QuietContext, TopicState};
use crate::source::KafkaProperties;

/// librdkafka's error code and its text (`MessageTimedOut (Local: Message timed out)`), or the
/// whole error when it has no code.
pub(super) fn error_text(error: &KafkaError) -> String {
    error
        .rdkafka_error_code()
        .map_or_else(|| error.to_string(), |code| code.to_string())
}

/// A producer with `properties` whose librdkafka reports are kept in `context`.
pub(super) fn producer(
    properties: &KafkaProperties,
    context: QuietContext,
) -> Result<FutureProducer<QuietContext>> {
    properties
        .to_client_config()
        .create_with_context(context)
        .map_err(|e| {
            Error::Kafka(format!(
                "the Kafka producer rejected its configuration: {e}"
            ))
        })
}

/// `message.timeout.ms` for a command's `--timeout`: librdkafka takes at most `i32::MAX`
/// milliseconds (about 24.8 days), and refuses a larger number with a message about a value
/// the user never typed; a longer timeout is as good as that one.
pub(super) fn message_timeout_ms(timeout: Duration) -> String {
    timeout
        .as_millis()
        .clamp(1, i32::MAX.unsigned_abs().into())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_timeout_is_what_librdkafka_takes() {
        assert_eq!(message_timeout_ms(Duration::from_secs(30)), "30000");
        assert_eq!(message_timeout_ms(Duration::from_micros(10)), "1");
        let thirty_days = Duration::from_secs(30 * 24 * 3600);
        assert_eq!(message_timeout_ms(thirty_days), "2147483647");
    }
}
