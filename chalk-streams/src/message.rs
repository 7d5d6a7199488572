//! What a resolver receives: [`Message<T>`], its [`Timestamp`] and [`Headers`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// A point in time with millisecond precision, as Kafka timestamps are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

impl Timestamp {
    /// The timestamp `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self { millis }
    }

    /// Now, by the system clock.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// The timestamp of a [`SystemTime`] (saturating at the `i64` range).
    pub fn from_system_time(time: SystemTime) -> Self {
        let millis = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |m| -m),
        };
        Self { millis }
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.millis
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        if self.millis >= 0 {
            UNIX_EPOCH + Duration::from_millis(self.millis.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_millis(self.millis.unsigned_abs())
        }
    }

    /// How long before `now` this timestamp lies; zero when it lies in the future.
    pub fn age_at(self, now: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(now.millis.saturating_sub(self.millis)).unwrap_or(0))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-27T14:13:51.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&humantime::format_rfc3339_millis(self.to_system_time()), f)
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
    /// Headers of a Kafka message.
    Kafka(&'a rdkafka::message::BorrowedHeaders),
    /// Headers already owned.
    Owned(&'a Headers),
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
        use rdkafka::message::Headers as _;
        match self {
            RawHeaders::None => Headers::new(),
            RawHeaders::Owned(headers) => (*headers).clone(),
            RawHeaders::Kafka(headers) => headers
                .iter()
                .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                .collect(),
        }
    }
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
