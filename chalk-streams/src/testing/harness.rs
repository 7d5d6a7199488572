//! Broker-free tests of a declared stream: feed it messages, move its clock, and look at what
//! it did with each message and what it wrote.
//!
//! ```
//! use chalk_streams::prelude::*;
//! use chalk_streams::testing::{MessageStatus, StreamTester, TestMessage};
//!
//! #[derive(serde::Deserialize)]
//! struct Body { user_id: String, favorite_color: String }
//!
//! #[derive(Features, Default)]
//! struct User { #[primary] uid: String, favorite_color: Option<String> }
//!
//! static UPDATES: KafkaSource = KafkaSource::new().topic("updates");
//!
//! #[stream(source = UPDATES, name = "colors")]
//! fn colors(body: Body) -> User {
//!     User { uid: body.user_id, favorite_color: Some(body.favorite_color) }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut tester = StreamTester::new("colors").expect("declared");
//! let status = tester
//!     .send(TestMessage::json(&serde_json::json!({"user_id": "u1", "favorite_color": "red"})))
//!     .await;
//! assert!(matches!(status, MessageStatus::Processed { .. }));
//! assert!(matches!(tester.send(TestMessage::bytes("{")).await, MessageStatus::Failed { .. }));
//! # }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::test_message::TestMessage;
use crate::features::FeatureRow;
use crate::message::{RawHeaders, RawMessage, Timestamp};
use crate::registry::{Registry, StreamDescriptor};
use crate::resolver::{MessageError, Phase};
use crate::runtime::clock::ManualClock;
use crate::runtime::guard::resolve;
use crate::runtime::lead::{too_far_ahead, too_far_ahead_of_windows};
use crate::runtime::window::{OwnedRecord, WindowBook};
use crate::runtime::window_resolver::WindowResolver;
use crate::runtime::{DEFAULT_MAX_TIMESTAMP_LEAD, DEFAULT_WINDOW_RETENTION};
use crate::LateArrivalDeadline;

/// What the stream did with one message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MessageStatus {
    /// Resolved; these rows would be written (a mapping stream). Rows every store refuses (a
    /// value nested too deep to read back) fail the message in phase `store` instead.
    Processed {
        /// The rows, stamped with the message's feature time.
        rows: Vec<FeatureRow>,
    },
    /// Taken into its windows (a window stream); rows come when windows fire.
    Windowed,
    /// Older than the late-arrival deadline (or, for windows, than the retention): skipped
    /// before decoding.
    SkippedLate,
    /// Failed; with a dead-letter topic it would be dead-lettered.
    Failed {
        /// Where it failed.
        phase: Phase,
        /// Why.
        error: String,
    },
}

/// One window firing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FiredWindow {
    /// The topic whose messages the window holds.
    pub topic: String,
    /// Their partition.
    pub partition: i32,
    /// The window's end (the rows' feature time).
    pub end: Timestamp,
    /// The window size's label, e.g. `10m`.
    pub size: &'static str,
    /// The key the window groups: `None` for messages without a key, which have windows of
    /// their own, apart from those with an empty key.
    pub key: Option<Vec<u8>>,
    /// Whether it fired before (this is a re-fire after late messages).
    pub refire: bool,
    /// Its rows (features named `feature[size]`), or the resolver's failure, or the stores'
    /// refusal of its rows (phase `store`; the window keeps its previous output).
    pub result: Result<Vec<FeatureRow>, MessageError>,
}

/// A topic and partition: offsets and windows are kept per place, as in the runtime.
type Place = (Arc<str>, i32);

/// Runs one declared stream without a broker, with a clock the test moves.
pub struct StreamTester {
    descriptor: &'static StreamDescriptor,
    deadline: LateArrivalDeadline,
    clock: Arc<ManualClock>,
    /// The stream's topics; a message goes to the first unless it names another.
    topics: Vec<Arc<str>>,
    offsets: BTreeMap<Place, i64>,
    windows: Option<(WindowResolver, BTreeMap<Place, WindowBook>)>,
    retention: Duration,
    max_lead: Duration,
    /// Windows that came due before a message sent after the clock was set past their end:
    /// fired then, as the runtime would, and returned by the next `advance` or `fire_due`.
    fired_before: Vec<FiredWindow>,
}

impl StreamTester {
    /// A tester for the stream called `name`, with its source's late-arrival deadline, and a
    /// clock at the current time.
    pub fn new(name: &str) -> crate::Result<Self> {
        let registry = Registry::collect()?;
        let descriptor = registry.select(&[name])?.streams()[0];
        // Only the deadline and topics matter here: no broker is contacted, and no credential
        // is needed.
        let source = descriptor
            .source()
            .resolve_broker_free(&crate::source::resolve::process_env)
            .map_err(|errors| {
                crate::Error::Config(
                    errors
                        .into_iter()
                        .map(|error| crate::ConfigProblem {
                            stream: name.to_owned(),
                            source_name: descriptor.source().integration_name().map(str::to_owned),
                            error,
                        })
                        .collect(),
                )
            })?;
        let mut topics: Vec<Arc<str>> = source
            .topics
            .iter()
            .map(|t| Arc::from(t.as_str()))
            .collect();
        if topics.is_empty() {
            topics.push(Arc::from(""));
        }
        Ok(Self {
            descriptor,
            deadline: source.late_arrival_deadline,
            clock: Arc::new(ManualClock::new(Timestamp::now())),
            topics,
            offsets: BTreeMap::new(),
            windows: WindowResolver::of(descriptor).map(|w| (w, BTreeMap::new())),
            retention: DEFAULT_WINDOW_RETENTION,
            max_lead: DEFAULT_MAX_TIMESTAMP_LEAD,
            fired_before: Vec::new(),
        })
    }

    /// The tester's clock: move it with [`advance`](Self::advance) or set it directly.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// Keeps windows this long after their end when the deadline is infinite, and caps a finite
    /// one, as [`Runtime::window_retention`](crate::runtime::Runtime::window_retention) does.
    pub fn window_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How far ahead of the clock a message may be stamped, as
    /// [`Runtime::max_timestamp_lead`](crate::Runtime::max_timestamp_lead).
    pub fn max_timestamp_lead(mut self, lead: Duration) -> Self {
        self.max_lead = lead;
        self
    }

    /// Feeds one message, as the runtime would: late check, decode, resolver (or window). A
    /// window stream first fires the windows due at the clock's time (if the clock was set past
    /// their end), as the runtime does before reading on; the next
    /// [`advance`](Self::advance) or [`fire_due`](Self::fire_due) returns those firings.
    ///
    /// # Panics
    ///
    /// If the message names a topic the stream does not read: the test is wrong, not the stream.
    pub async fn send(&mut self, message: TestMessage) -> MessageStatus {
        let topic = self.topic_of(&message);
        let due = self.fire_windows().await;
        self.fired_before.extend(due);
        let now = self.clock.now();
        let place = (Arc::clone(&topic), message.partition);
        let offset = {
            let next = self.offsets.entry(place.clone()).or_insert(0);
            *next += 1;
            *next - 1
        };
        let timestamp = message.timestamp.unwrap_or(now);
        let raw = RawMessage {
            payload: message.payload.as_deref(),
            key: message.key.as_deref(),
            topic: &topic,
            partition: message.partition,
            offset,
            timestamp: Some(timestamp),
            headers: RawHeaders::Owned(&message.headers),
        };
        match &mut self.windows {
            None if self.deadline.is_exceeded_by(timestamp.age_at(now)) => {
                MessageStatus::SkippedLate
            }
            None => {
                if let Some(error) = too_far_ahead(timestamp, now, self.max_lead) {
                    return failed(error);
                }
                let mut rows = Vec::new();
                let (resolver, timeout) = (self.descriptor.resolver(), self.descriptor.timeout());
                match resolve(resolver, timeout, &raw, &mut rows).await {
                    Ok(()) => match refused_by_stores(&rows) {
                        None => MessageStatus::Processed { rows },
                        Some(error) => failed(error),
                    },
                    Err(error) => failed(error),
                }
            }
            Some((resolver, books)) => {
                let book = books.entry(place).or_insert_with(|| {
                    WindowBook::for_stream(self.descriptor.windows(), self.deadline, self.retention)
                });
                if let Some(error) = too_far_ahead_of_windows(timestamp, now, self.max_lead) {
                    book.pass(offset);
                    return failed(error);
                }
                if !book.accepts(timestamp, now) {
                    return MessageStatus::SkippedLate;
                }
                match crate::runtime::guard::guarded(|| resolver.check()(&raw)) {
                    Ok(()) => {
                        let record = OwnedRecord {
                            offset,
                            key: message.key,
                            payload: message.payload,
                            timestamp: Some(timestamp),
                            headers: message.headers,
                        };
                        book.insert(record, timestamp, now);
                        MessageStatus::Windowed
                    }
                    Err(error) => {
                        book.pass(offset);
                        failed(error)
                    }
                }
            }
        }
    }

    /// Moves the clock forward and fires every window now due (none for a mapping stream), in
    /// order of their ends. Late messages already sent make their windows fire again.
    pub async fn advance(&mut self, by: Duration) -> Vec<FiredWindow> {
        self.clock.advance(by);
        self.fire_due().await
    }

    /// Fires every window due at the clock's current time; first come the windows fired by a
    /// `send` since the last call.
    pub async fn fire_due(&mut self) -> Vec<FiredWindow> {
        let mut fired = std::mem::take(&mut self.fired_before);
        fired.extend(self.fire_windows().await);
        fired
    }

    /// Fires every window due at the clock's current time, in order of their ends.
    async fn fire_windows(&mut self) -> Vec<FiredWindow> {
        let now = self.clock.now();
        let Some((resolver, books)) = &mut self.windows else {
            return Vec::new();
        };
        let mut fired = Vec::new();
        for ((topic, partition), book) in books.iter_mut() {
            for id in book.due(now) {
                let Some((records, size, refire)) = book.window(&id) else {
                    continue;
                };
                let raws: Vec<RawMessage<'_>> =
                    records.iter().map(|r| r.raw(topic, *partition)).collect();
                let end = Timestamp::from_millis(id.0);
                let mut rows = Vec::new();
                let result = resolver
                    .fire_labelled(&raws, end, size.label, &mut rows)
                    .await
                    .and_then(|()| refused_by_stores(&rows).map_or(Ok(rows), Err));
                fired.push(FiredWindow {
                    topic: topic.to_string(),
                    partition: *partition,
                    end,
                    size: size.label,
                    key: id.2.clone(),
                    refire,
                    result,
                });
                book.fired(&id);
            }
            book.expire(now);
        }
        fired.sort_by_key(|f| f.end);
        fired
    }
}

impl StreamTester {
    /// The topic `message` goes to: the one it names, else the stream's first.
    fn topic_of(&self, message: &TestMessage) -> Arc<str> {
        let Some(named) = &message.topic else {
            return Arc::clone(&self.topics[0]);
        };
        match self.topics.iter().find(|topic| ***topic == **named) {
            Some(topic) => Arc::clone(topic),
            None => panic!(
                "stream `{}` does not read topic `{named}`; it reads {:?}",
                self.descriptor.name(),
                self.topics
            ),
        }
    }
}

/// The failure, in phase `store`, of rows every store refuses before writing them (a value
/// nested too deep to read back), as the runtime fails their message or window.
fn refused_by_stores(rows: &[FeatureRow]) -> Option<MessageError> {
    let refused = crate::store::text::check_rows(rows).err()?;
    Some(MessageError::new(Phase::Store, refused.to_string()))
}

fn failed(error: MessageError) -> MessageStatus {
    MessageStatus::Failed {
        phase: error.phase,
        error: error.message,
    }
}
