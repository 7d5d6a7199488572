//! A dead letter taken apart into its `chalk.*` envelope and the original message.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rdkafka::message::{BorrowedMessage, Message as _, OwnedHeaders};

use crate::dlq::{
    HEADER_ERROR, HEADER_ORIGINAL_DROPPED, HEADER_PAYLOAD_DROPPED, HEADER_PHASE,
    HEADER_SOURCE_OFFSET, HEADER_SOURCE_PARTITION, HEADER_SOURCE_TIMESTAMP, HEADER_SOURCE_TOPIC,
    HEADER_STREAM,
};
use crate::kafka_headers;

/// The headers a dead letter carries on top of the original message's.
const ENVELOPE: [&str; 9] = [
    HEADER_STREAM,
    HEADER_PHASE,
    HEADER_ERROR,
    HEADER_SOURCE_TOPIC,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_TIMESTAMP,
    HEADER_PAYLOAD_DROPPED,
    HEADER_ORIGINAL_DROPPED,
];
/// The longest value `--dry-run` prints in full.
const PREVIEW_CHARS: usize = 200;

/// A dead letter taken apart: its envelope, and the original message's key, value and headers.
/// Header names are read as bytes: an original name need not be UTF-8.
pub(super) struct Letter<'m> {
    envelope: BTreeMap<&'m [u8], &'m [u8]>,
    /// The original headers, in order.
    headers: Vec<(&'m [u8], Option<&'m [u8]>)>,
    pub(super) key: Option<&'m [u8]>,
    pub(super) payload: Option<&'m [u8]>,
}

impl<'m> Letter<'m> {
    pub(super) fn new(message: &'m BorrowedMessage<'_>) -> Self {
        let mut envelope = BTreeMap::new();
        let mut headers = message
            .headers()
            .map(kafka_headers::entries)
            .unwrap_or_default();
        // The envelope follows the original headers and starts with `chalk.stream`: an original
        // header of an envelope's name (a stream that reads another's dead letters) stays
        // original.
        let start = headers
            .iter()
            .rposition(|(name, _)| *name == HEADER_STREAM.as_bytes())
            .unwrap_or(headers.len());
        for (name, value) in headers.split_off(start) {
            if ENVELOPE.iter().any(|header| header.as_bytes() == name) {
                envelope.insert(name, value.unwrap_or_default());
            } else {
                headers.push((name, value));
            }
        }
        Self {
            envelope,
            headers,
            key: message.key(),
            payload: message.payload(),
        }
    }

    pub(super) fn text(&self, header: &str) -> Option<String> {
        self.envelope
            .get(header.as_bytes())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The partition the original message was read from, if the letter says.
    pub(super) fn source_partition(&self) -> Option<i32> {
        self.text(HEADER_SOURCE_PARTITION)?.parse().ok()
    }

    /// The original message's Kafka timestamp (milliseconds since the epoch), if the letter
    /// says.
    pub(super) fn source_timestamp(&self) -> Option<i64> {
        self.text(HEADER_SOURCE_TIMESTAMP)?.parse().ok()
    }

    /// The original message's headers, byte for byte.
    pub(super) fn original_headers(&self) -> OwnedHeaders {
        kafka_headers::from_entries(&self.headers)
    }

    /// One line saying what would be sent to `topic`, with `timestamp` (milliseconds since the
    /// epoch) if it is not to be the broker's.
    pub(super) fn preview(&self, topic: &str, timestamp: Option<i64>) -> String {
        let mut line = format!("would send to `{topic}`:");
        if let Some(key) = self.key {
            let _ = write!(line, " key={}", String::from_utf8_lossy(key));
        }
        if let Some(millis) = timestamp {
            let _ = write!(line, " timestamp={millis}");
        }
        if !self.headers.is_empty() {
            let headers: Vec<String> = self
                .headers
                .iter()
                .map(|(name, value)| {
                    let value = value.map(String::from_utf8_lossy).unwrap_or_default();
                    format!("{}={value}", String::from_utf8_lossy(name))
                })
                .collect();
            let _ = write!(line, " headers=[{}]", headers.join(", "));
        }
        match self.payload {
            None => line.push_str(" (no value)"),
            Some(payload) => {
                let _ = write!(
                    line,
                    " value={}",
                    shortened(&String::from_utf8_lossy(payload))
                );
            }
        }
        // Why it is a dead letter, to decide whether replaying it can help.
        if let (Some(phase), Some(error)) = (self.text(HEADER_PHASE), self.text(HEADER_ERROR)) {
            let _ = write!(line, " (failed in {phase}: {})", shortened(&error));
        }
        line
    }
}

/// `text`, cut after [`PREVIEW_CHARS`] characters with `…`.
fn shortened(text: &str) -> String {
    let mut preview: String = text.chars().take(PREVIEW_CHARS).collect();
    if text.chars().count() > PREVIEW_CHARS {
        preview.push('…');
    }
    preview
}
