//! The messages a [`StreamTester`](super::StreamTester) is fed.

use crate::message::{Headers, Timestamp};

/// A message to feed a [`StreamTester`](super::StreamTester).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestMessage {
    /// The payload; `None` for a tombstone.
    pub payload: Option<Vec<u8>>,
    /// The key.
    pub key: Option<Vec<u8>>,
    /// The Kafka timestamp; `None` uses the tester's clock.
    pub timestamp: Option<Timestamp>,
    /// Headers.
    pub headers: Headers,
    /// The partition (offsets count up per topic and partition).
    pub partition: i32,
    /// The topic, one of the stream's; `None` for its first.
    pub topic: Option<String>,
}

impl TestMessage {
    /// A message with a JSON payload.
    pub fn json(value: &serde_json::Value) -> Self {
        Self::bytes(value.to_string())
    }

    /// A message with a raw payload.
    pub fn bytes(payload: impl Into<Vec<u8>>) -> Self {
        Self {
            payload: Some(payload.into()),
            key: None,
            timestamp: None,
            headers: Headers::new(),
            partition: 0,
            topic: None,
        }
    }

    /// A tombstone: a message without a value (an `Option<T>` resolver gets `None`; any
    /// other fails in phase `parse`, as in the runtime).
    pub fn tombstone() -> Self {
        Self {
            payload: None,
            ..Self::bytes(Vec::new())
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the Kafka timestamp.
    pub fn timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(name, Some(value.into()));
        self
    }

    /// Sets the partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = partition;
        self
    }

    /// Sets the topic: one of the stream's, for a stream that reads several.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }
}
