//! The dead-letter queue: where a message that fails (parse, resolver or store) goes, with its
//! original key, value and headers and an envelope of headers saying what happened.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::ClientConfig;

use crate::message::RawMessage;
use crate::resolver::MessageError;
use crate::source::KafkaProperties;

/// The largest letter, in bytes, the dead-letter producer and `dlq replay` send (librdkafka's
/// own limit is 1,000,000): the brokers' limits decide, not the client's.
pub(crate) const LARGEST_LETTER: &str = "16777216";

/// Header: the name of the stream the message failed in.
pub const HEADER_STREAM: &str = "chalk.stream";
/// Header: the phase it failed in, `parse`, `resolver` or `store`.
pub const HEADER_PHASE: &str = "chalk.phase";
/// Header: the error text (at most 4 KiB).
pub const HEADER_ERROR: &str = "chalk.error";
/// Header: the topic the message was read from.
pub const HEADER_SOURCE_TOPIC: &str = "chalk.source.topic";
/// Header: its partition, in decimal.
pub const HEADER_SOURCE_PARTITION: &str = "chalk.source.partition";
/// Header: its offset, in decimal.
pub const HEADER_SOURCE_OFFSET: &str = "chalk.source.offset";
/// Header: its Kafka timestamp in milliseconds since the epoch, in decimal (absent if none).
pub const HEADER_SOURCE_TIMESTAMP: &str = "chalk.source.timestamp";
/// Header: present (`true`) when the broker refused the dead letter with its payload, which was
/// then sent without it; the original stays in the source topic at the recorded offset.
pub const HEADER_PAYLOAD_DROPPED: &str = "chalk.payload.dropped";
/// Header: present (`true`) when the broker refused the letter even without its payload, which
/// was then sent with the envelope alone, keyed `topic/partition/offset` instead of the original
/// key; the original stays in the source topic at the recorded offset.
pub const HEADER_ORIGINAL_DROPPED: &str = "chalk.original.dropped";

/// The longest error text kept in [`HEADER_ERROR`].
const MAX_ERROR_BYTES: usize = 4096;

/// A producer to one dead-letter topic.
pub(crate) struct DeadLetterQueue {
    /// The producer, replaced if librdkafka ends it for good (see `replace_if_failed_for_good`).
    producer: Mutex<Arc<FutureProducer>>,
    /// What the producer is made from, for its replacement.
    config: ClientConfig,
    topic: String,
    stream: &'static str,
}

impl DeadLetterQueue {
    /// A producer with the source's connection `properties`.
    pub(crate) fn new(
        mut properties: KafkaProperties,
        client_id: String,
        topic: String,
        stream: &'static str,
    ) -> Result<Self, KafkaError> {
        properties.set("client.id", client_id);
        // A dead letter is acknowledged by every in-sync replica before its offset moves on.
        properties.set("acks", "all");
        properties.set("enable.idempotence", "true");
        // Let the broker, not the client, decide whether a large failed message fits.
        properties.set("message.max.bytes", LARGEST_LETTER);
        // One letter per record batch: the broker then judges each letter's size alone, and a
        // batch of several that is too large together cannot get each of them sent without its
        // value.
        properties.set("batch.num.messages", "1");
        let config = properties.to_client_config();
        let producer = config.create().map_err(|error| {
            KafkaError::ClientCreation(format!(
                "the dead-letter producer (chalk-streams sets acks=all and \
                 enable.idempotence=true): {}",
                match &error {
                    KafkaError::ClientCreation(why) => why.clone(),
                    other => other.to_string(),
                }
            ))
        })?;
        Ok(Self {
            producer: Mutex::new(Arc::new(producer)),
            config,
            topic,
            stream,
        })
    }

    /// The dead-letter topic.
    pub(crate) fn topic(&self) -> &str {
        &self.topic
    }

    /// Sends one failed message and waits for the broker's acknowledgement. A letter the broker
    /// refuses for its size or form is sent again without its payload, then with the envelope
    /// alone (see [`Shape`]).
    pub(crate) async fn send(
        &self,
        raw: &RawMessage<'_>,
        error: &MessageError,
    ) -> Result<(), SendError> {
        let producer = Arc::clone(&self.producer.lock().unwrap_or_else(PoisonError::into_inner));
        let sent = send_shrinking(|shape| self.produce(&producer, raw, error, shape)).await;
        if sent.is_err() {
            self.replace_if_failed_for_good(&producer);
        }
        sent
    }

    /// librdkafka ends an idempotent producer for good on some errors (the cluster refusing it
    /// a producer id, say), and every later send through it fails at once: waiting cannot
    /// help, a new producer can. If `used` is such a producer and still the current one, it is
    /// replaced; if no new one can be made, the next failed send tries again.
    fn replace_if_failed_for_good(&self, used: &Arc<FutureProducer>) {
        let Some((_, reason)) = used.client().fatal_error() else {
            return;
        };
        let mut current = self.producer.lock().unwrap_or_else(PoisonError::into_inner);
        if !Arc::ptr_eq(&current, used) {
            return; // Another partition's worker replaced it already.
        }
        match self.config.create::<FutureProducer>() {
            Ok(fresh) => {
                tracing::error!(
                    stream = self.stream,
                    dead_letter_topic = %self.topic,
                    error = %reason,
                    "the dead-letter producer failed for good; a new one takes over"
                );
                let failed = std::mem::replace(&mut *current, Arc::new(fresh));
                // Closing it (a purge, then a short flush) need not hold up other workers.
                drop(current);
                drop(failed);
            }
            Err(error) => tracing::error!(
                stream = self.stream,
                dead_letter_topic = %self.topic,
                error = %reason,
                %error,
                "the dead-letter producer failed for good, and a new one cannot be made; \
                 trying again at the next send"
            ),
        }
    }

    async fn produce(
        &self,
        producer: &FutureProducer,
        raw: &RawMessage<'_>,
        error: &MessageError,
        shape: Shape,
    ) -> Result<(), KafkaError> {
        let headers = envelope(self.stream, raw, error, shape);
        let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic).headers(headers);
        let coordinates;
        if shape == Shape::EnvelopeOnly {
            // A compacted dead-letter topic refuses a letter without a key.
            coordinates = format!("{}/{}/{}", raw.topic, raw.partition, raw.offset);
            record = record.key(coordinates.as_bytes());
        } else if let Some(key) = raw.key {
            record = record.key(key);
        }
        if let (Shape::Whole, Some(payload)) = (shape, raw.payload) {
            record = record.payload(payload);
        }
        producer
            .send(record, Duration::from_secs(5))
            .await
            .map(|_| ())
            .map_err(|(error, _)| error)
    }
}

/// How much of the failed message a dead letter carries, from all of it to the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The original key, value and headers, then the envelope.
    Whole,
    /// The original key and headers, then the envelope.
    WithoutPayload,
    /// The envelope alone, keyed by the message's coordinates.
    EnvelopeOnly,
}

/// Why a dead letter was not written.
#[derive(Debug)]
pub(crate) enum SendError {
    /// Worth waiting out: the broker is away, the topic does not exist yet, a request failed.
    Transient(KafkaError),
    /// The broker refuses even the envelope alone, for its size or form: retrying cannot help.
    Refused(KafkaError),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transient(error) => error.fmt(f),
            Self::Refused(error) => write!(f, "{error} (even the envelope alone)"),
        }
    }
}

/// Produces with `produce` in each [`Shape`], from the whole message down, until the broker
/// takes one. Only a refusal for the letter's size or form moves on to a smaller shape.
async fn send_shrinking<F, Fut>(mut produce: F) -> Result<(), SendError>
where
    F: FnMut(Shape) -> Fut,
    Fut: std::future::Future<Output = Result<(), KafkaError>>,
{
    for shape in [Shape::Whole, Shape::WithoutPayload] {
        match produce(shape).await {
            Err(error) if refuses_the_letter(&error) => {}
            Err(error) => return Err(SendError::Transient(error)),
            Ok(()) => return Ok(()),
        }
    }
    match produce(Shape::EnvelopeOnly).await {
        Err(error) if refuses_the_letter(&error) => Err(SendError::Refused(error)),
        Err(error) => Err(SendError::Transient(error)),
        Ok(()) => Ok(()),
    }
}

/// Whether the broker refused the letter itself (its size or form) rather than failed to take it.
fn refuses_the_letter(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::MessageBatchTooLarge
        )
    )
}

/// The original headers (unless the shape leaves them out) followed by the `chalk.*` envelope.
fn envelope(
    stream: &str,
    raw: &RawMessage<'_>,
    error: &MessageError,
    shape: Shape,
) -> OwnedHeaders {
    let original = match shape {
        Shape::Whole | Shape::WithoutPayload => raw.headers.to_kafka_headers(),
        Shape::EnvelopeOnly => OwnedHeaders::new(),
    };
    let mut text = error.message.as_str();
    if text.len() > MAX_ERROR_BYTES {
        let mut end = MAX_ERROR_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text = &text[..end];
    }
    let partition = raw.partition.to_string();
    let offset = raw.offset.to_string();
    let timestamp = raw.timestamp.map(|t| t.as_millis().to_string());
    let mut envelope: Vec<(&str, &str)> = vec![
        (HEADER_STREAM, stream),
        (HEADER_PHASE, error.phase.as_str()),
        (HEADER_ERROR, text),
        (HEADER_SOURCE_TOPIC, raw.topic.as_ref()),
        (HEADER_SOURCE_PARTITION, &partition),
        (HEADER_SOURCE_OFFSET, &offset),
    ];
    if let Some(timestamp) = &timestamp {
        envelope.push((HEADER_SOURCE_TIMESTAMP, timestamp));
    }
    if shape != Shape::Whole {
        envelope.push((HEADER_PAYLOAD_DROPPED, "true"));
    }
    if shape == Shape::EnvelopeOnly {
        envelope.push((HEADER_ORIGINAL_DROPPED, "true"));
    }
    envelope
        .into_iter()
        .fold(original, |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    fn refused() -> KafkaError {
        KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)
    }

    fn away() -> KafkaError {
        KafkaError::MessageProduction(RDKafkaErrorCode::BrokerTransportFailure)
    }

    /// Runs `send_shrinking` against a broker answering `answers` in turn; returns the result
    /// and the shapes tried.
    fn run(answers: Vec<Result<(), KafkaError>>) -> (Result<(), SendError>, Vec<Shape>) {
        let tried = RefCell::new(Vec::new());
        let answers = RefCell::new(answers.into_iter());
        let result = futures::executor::block_on(send_shrinking(|shape| {
            tried.borrow_mut().push(shape);
            let answer = answers.borrow_mut().next().unwrap_or(Ok(()));
            async move { answer }
        }));
        (result, tried.into_inner())
    }

    #[test]
    fn a_letter_that_fits_is_sent_whole() {
        let (result, tried) = run(vec![Ok(())]);
        assert!(result.is_ok());
        assert_eq!(tried, [Shape::Whole]);
    }

    #[test]
    fn a_refused_letter_shrinks_until_the_broker_takes_it() {
        let (result, tried) = run(vec![Err(refused()), Ok(())]);
        assert!(result.is_ok());
        assert_eq!(tried, [Shape::Whole, Shape::WithoutPayload]);

        let invalid = KafkaError::MessageProduction(RDKafkaErrorCode::InvalidRecord);
        let (result, tried) = run(vec![Err(refused()), Err(invalid), Ok(())]);
        assert!(result.is_ok());
        assert_eq!(
            tried,
            [Shape::Whole, Shape::WithoutPayload, Shape::EnvelopeOnly]
        );
    }

    #[test]
    fn an_envelope_refused_is_final_and_a_broker_away_is_not() {
        let (result, _) = run(vec![Err(refused()), Err(refused()), Err(refused())]);
        assert!(matches!(result, Err(SendError::Refused(_))), "{result:?}");

        let (result, tried) = run(vec![Err(away())]);
        assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
        assert_eq!(
            tried,
            [Shape::Whole],
            "a transient failure is retried whole"
        );
    }
}
