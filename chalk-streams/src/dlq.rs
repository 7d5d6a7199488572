//! The dead-letter queue: where a message that fails (parse, resolver or store) goes, with its
//! original key, value and headers and an envelope of headers saying what happened.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::message::RawMessage;
use crate::resolver::MessageError;
use crate::source::KafkaProperties;

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

/// The longest error text kept in [`HEADER_ERROR`].
const MAX_ERROR_BYTES: usize = 4096;

/// A producer to one dead-letter topic.
pub(crate) struct DeadLetterQueue {
    producer: FutureProducer,
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
        properties.set("message.max.bytes", "16777216");
        let producer = properties.to_client_config().create()?;
        Ok(Self {
            producer,
            topic,
            stream,
        })
    }

    /// The dead-letter topic.
    pub(crate) fn topic(&self) -> &str {
        &self.topic
    }

    /// Sends one failed message and waits for the broker's acknowledgement. A message the
    /// broker refuses as too large is sent again without its payload.
    pub(crate) async fn send(
        &self,
        raw: &RawMessage<'_>,
        error: &MessageError,
    ) -> Result<(), KafkaError> {
        match self.produce(raw, error, true).await {
            Err(KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageSizeTooLarge | RDKafkaErrorCode::InvalidRecord,
            )) => self.produce(raw, error, false).await,
            other => other,
        }
    }

    async fn produce(
        &self,
        raw: &RawMessage<'_>,
        error: &MessageError,
        with_payload: bool,
    ) -> Result<(), KafkaError> {
        let headers = envelope(self.stream, raw, error, with_payload);
        let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic).headers(headers);
        if let Some(key) = raw.key {
            record = record.key(key);
        }
        if let (true, Some(payload)) = (with_payload, raw.payload) {
            record = record.payload(payload);
        }
        self.producer
            .send(record, Duration::from_secs(5))
            .await
            .map(|_| ())
            .map_err(|(error, _)| error)
    }
}

/// The original headers followed by the `chalk.*` envelope.
fn envelope(
    stream: &str,
    raw: &RawMessage<'_>,
    error: &MessageError,
    with_payload: bool,
) -> OwnedHeaders {
    let original = raw.headers.to_owned_headers();
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
    if !with_payload {
        envelope.push((HEADER_PAYLOAD_DROPPED, "true"));
    }
    let headers = original
        .iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header { key, value })
        });
    envelope.into_iter().fold(headers, |headers, (key, value)| {
        headers.insert(Header {
            key,
            value: Some(value),
        })
    })
}
