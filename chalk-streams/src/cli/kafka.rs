//! The Kafka clients of the commands that talk to brokers (`check`, `push`, `dlq replay`): the
//! probe and its quiet context, and producers whose librdkafka reports are kept, not printed.

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
