//! A Kafka message as the partition workers read it, whatever it was read from.

use rdkafka::message::{Message, OwnedMessage};

use crate::message::{RawHeaders, Timestamp};

/// A Kafka message as the workers read it: from the partition queue, or copied out of the main
/// queue.
pub(crate) trait KafkaRecord {
    /// Its key, if it has one.
    fn key(&self) -> Option<&[u8]>;
    /// Its value, unless it is a tombstone.
    fn payload(&self) -> Option<&[u8]>;
    /// Its offset in its partition.
    fn offset(&self) -> i64;
    /// Its timestamp, if it has one.
    fn timestamp(&self) -> Option<Timestamp>;
    /// Its headers, as generated code takes them.
    fn raw_headers(&self) -> RawHeaders<'_>;
}

impl KafkaRecord for OwnedMessage {
    fn key(&self) -> Option<&[u8]> {
        Message::key(self)
    }

    fn payload(&self) -> Option<&[u8]> {
        Message::payload(self)
    }

    fn offset(&self) -> i64 {
        Message::offset(self)
    }

    fn timestamp(&self) -> Option<Timestamp> {
        Message::timestamp(self)
            .to_millis()
            .map(Timestamp::from_millis)
    }

    fn raw_headers(&self) -> RawHeaders<'_> {
        self.headers()
            .map_or(RawHeaders::None, RawHeaders::KafkaOwned)
    }
}
