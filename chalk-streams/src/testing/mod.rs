//! Testing streams: [`StreamTester`] runs a declared stream without any broker, with a clock
//! the test moves; [`MockKafka`] is librdkafka's mock cluster, in-process, on a loopback port,
//! for tests over the real Kafka protocol, and [`KafkaTestClient`] the same client for a real
//! broker; [`FlakyStore`] is a store that fails on purpose; [`headers`] makes and reads Kafka
//! headers byte for byte.

mod client;
mod flaky_store;
mod harness;
pub mod headers;
mod mock_kafka;
mod record;
mod test_message;

/// What the test producers set, before a client's own properties.
const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("linger.ms", "5"),
    // Room for oversized test messages; the broker has the last word.
    ("message.max.bytes", "16777216"),
    // A record that cannot be delivered (the broker is down, the topic does not exist) fails
    // the test in 30 s, not in librdkafka's default 5 minutes.
    ("message.timeout.ms", "30000"),
    // One request at a time per broker: a retried batch cannot land after a later one, so
    // records keep their order within a partition even when a test injects request errors.
    ("max.in.flight.requests.per.connection", "1"),
];

pub use client::KafkaTestClient;
pub use flaky_store::FlakyStore;
pub use harness::{FiredWindow, MessageStatus, StreamTester};
pub use mock_kafka::MockKafka;
pub use record::Record;
pub use test_message::TestMessage;
