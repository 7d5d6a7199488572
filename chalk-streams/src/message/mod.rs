//! What a resolver receives: [`Message<T>`], its [`Timestamp`] and [`Headers`].

mod timestamp;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

pub use timestamp::Timestamp;

/// A Kafka record with its payload decoded into `T`.
///
/// Take `Message<T>` as a resolver's parameter to see the envelope (key, partition, offset,
/// timestamp, headers) as well as the value; take a bare `T` when only the value matters.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<T> {
    /// The decoded payload.
    pub value: T,
    /// The record's key, if it has one.
    pub key: Option<Vec<u8>>,
    /// The topic the record was read from.
    pub topic: Arc<str>,
    /// The partition the record was read from.
    pub partition: i32,
    /// The record's offset in its partition.
    pub offset: i64,
    /// The record's timestamp (create time or log-append time), if the broker reported one.
    pub timestamp: Option<Timestamp>,
    /// The record's headers, in the order they were sent.
    pub headers: Headers,
}

impl<T> Message<T> {
    /// The key as UTF-8 text, if there is a key and it is valid UTF-8.
    pub fn key_str(&self) -> Option<&str> {
        self.key
            .as_deref()
            .and_then(|k| std::str::from_utf8(k).ok())
    }

    /// Replaces the value, keeping the envelope.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Message<U> {
        Message {
            value: f(self.value),
            key: self.key,
            topic: self.topic,
            partition: self.partition,
            offset: self.offset,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }
}

/// A record's headers: name and optional value, in order; names may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, Option<Vec<u8>>)>,
}

impl Headers {
    /// No headers.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<String>, value: Option<Vec<u8>>) {
        self.entries.push((name.into(), value));
    }

    /// The value of the first header called `name`; `None` if there is none or it has no value.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// The first header called `name` as UTF-8 text.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every header in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&[u8]>)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_deref()))
    }

    /// The number of headers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl FromIterator<(String, Option<Vec<u8>>)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, Option<Vec<u8>>)>>(iter: I) -> Self {
        Self {
            entries: iter.into_iter().collect(),
        }
    }
}

/// A record as the runtime hands it to generated code: borrowed, not yet decoded.
///
/// The runtime builds one from a Kafka message without copying; the testing harness builds one
/// from owned data.
#[derive(Debug, Clone, Copy)]
pub struct RawMessage<'a> {
    /// The payload; `None` for a tombstone (null value).
    pub payload: Option<&'a [u8]>,
    /// The key, if any.
    pub key: Option<&'a [u8]>,
    /// The topic.
    pub topic: &'a Arc<str>,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// The timestamp, if any.
    pub timestamp: Option<Timestamp>,
    /// The headers, converted only when a resolver asks for them.
    pub headers: RawHeaders<'a>,
}

/// Headers of a [`RawMessage`], in the representation they arrived in.
#[derive(Clone, Copy)]
pub enum RawHeaders<'a> {
    /// No headers.
    None,
    /// The headers of a Kafka message, read from it only when asked for: parsing them costs as
    /// much as decoding a small payload.
    Kafka(KafkaHeaders<'a>),
    /// Headers of a Kafka message copied out of the client.
    KafkaOwned(&'a rdkafka::message::OwnedHeaders),
    /// Headers already owned.
    Owned(&'a Headers),
}

/// The headers of a message that librdkafka holds, not yet read from it.
#[derive(Clone, Copy)]
pub struct KafkaHeaders<'a> {
    message: *mut rdkafka::bindings::rd_kafka_message_t,
    _message: PhantomData<&'a ()>,
}

// SAFETY: as rdkafka's `BorrowedMessage`, which may be sent and shared: librdkafka changes a
// delivered message only to keep its headers' list when they are first read, and every read of
// them takes a lock for that (`kafka_headers::of_message`).
unsafe impl Send for KafkaHeaders<'_> {}
unsafe impl Sync for KafkaHeaders<'_> {}

impl<'a> KafkaHeaders<'a> {
    /// The headers of `message`.
    ///
    /// # Safety
    ///
    /// `message` is null or a librdkafka message that lives for `'a`.
    pub(crate) unsafe fn of(message: *mut rdkafka::bindings::rd_kafka_message_t) -> Self {
        Self {
            message,
            _message: PhantomData,
        }
    }

    /// The headers, if the message has any.
    pub(crate) fn get(&self) -> Option<&'a rdkafka::message::BorrowedHeaders> {
        // SAFETY: `of`'s caller promised the message lives for `'a`.
        unsafe { crate::kafka_headers::of_message(self.message) }
    }
}

impl fmt::Debug for KafkaHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.get().map(copy_headers).unwrap_or_default().iter())
            .finish()
    }
}

impl fmt::Debug for RawHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.to_owned_headers().iter())
            .finish()
    }
}

impl RawHeaders<'_> {
    /// Copies the headers into an owned [`Headers`].
    pub fn to_owned_headers(&self) -> Headers {
        match self {
            RawHeaders::None => Headers::new(),
            RawHeaders::Owned(headers) => (*headers).clone(),
            RawHeaders::Kafka(message) => message.get().map_or_else(Headers::new, copy_headers),
            RawHeaders::KafkaOwned(headers) => copy_headers(headers.as_borrowed()),
        }
    }

    /// The headers as a Kafka producer takes them: those read from Kafka copied byte for byte,
    /// names that are not UTF-8 included.
    pub(crate) fn to_kafka_headers(self) -> rdkafka::message::OwnedHeaders {
        use rdkafka::message::{BorrowedHeaders, Header, OwnedHeaders};
        match self {
            RawHeaders::None => OwnedHeaders::new(),
            RawHeaders::Owned(headers) => headers
                .iter()
                .fold(OwnedHeaders::new(), |kafka, (key, value)| {
                    kafka.insert(Header { key, value })
                }),
            RawHeaders::Kafka(message) => message
                .get()
                .map_or_else(OwnedHeaders::new, BorrowedHeaders::detach),
            RawHeaders::KafkaOwned(headers) => headers.clone(),
        }
    }
}

/// Copies librdkafka's headers, borrowed or owned. A name that is not UTF-8 (which any producer
/// can send) is read with U+FFFD in place of its bad bytes, so that the message is still
/// handled; a dead letter keeps the original headers byte for byte (see `dlq`).
fn copy_headers(headers: &rdkafka::message::BorrowedHeaders) -> Headers {
    crate::kafka_headers::entries(headers)
        .into_iter()
        .map(|(name, value)| {
            (
                String::from_utf8_lossy(name).into_owned(),
                value.map(<[u8]>::to_vec),
            )
        })
        .collect()
}

impl<'a> RawMessage<'a> {
    /// Wraps a decoded value in the envelope of this record.
    pub fn envelope<T>(&self, value: T) -> Message<T> {
        Message {
            value,
            key: self.key.map(<[u8]>::to_vec),
            topic: Arc::clone(self.topic),
            partition: self.partition,
            offset: self.offset,
            timestamp: self.timestamp,
            headers: self.headers.to_owned_headers(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RawHeaders;

    #[test]
    fn a_header_name_that_is_not_utf8_is_read_not_panicked_on() {
        let kafka = crate::kafka_headers::tests::with_a_bad_name();
        let read = RawHeaders::KafkaOwned(&kafka).to_owned_headers();
        let names: Vec<&str> = read.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["\u{fffd}bad", "ok", "chalk.stream"]);
        assert_eq!(read.get("ok"), Some(b"w".as_slice()));
        // What a dead letter carries: the same list, byte for byte.
        let copied = RawHeaders::KafkaOwned(&kafka).to_kafka_headers();
        assert_eq!(
            crate::kafka_headers::entries(copied.as_borrowed())[0].0,
            b"\xffbad"
        );
    }
}
