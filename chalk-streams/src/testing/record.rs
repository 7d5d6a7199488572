//! A record to produce in a test or a demo.

use crate::message::Timestamp;

/// A record to produce: topic, optional key, partition, timestamp and headers, and a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The topic to produce to.
    pub topic: String,
    /// The key.
    pub key: Option<Vec<u8>>,
    /// The payload; `None` produces a tombstone.
    pub payload: Option<Vec<u8>>,
    /// The partition; `None` lets the partitioner choose (by key).
    pub partition: Option<i32>,
    /// The create-time timestamp; `None` stamps the current time.
    pub timestamp: Option<Timestamp>,
    /// Headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Record {
    /// A record with a JSON payload.
    pub fn json(topic: impl Into<String>, value: &serde_json::Value) -> Self {
        Self::bytes(topic, value.to_string().into_bytes())
    }

    /// A record with a raw payload.
    pub fn bytes(topic: impl Into<String>, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            topic: topic.into(),
            key: None,
            payload: Some(payload.into()),
            partition: None,
            timestamp: None,
            headers: Vec::new(),
        }
    }

    /// A record with no payload (a tombstone).
    pub fn tombstone(topic: impl Into<String>) -> Self {
        Self {
            payload: None,
            ..Self::bytes(topic, Vec::new())
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the timestamp.
    pub fn timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}
