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

pub use client::KafkaTestClient;
pub use flaky_store::FlakyStore;
pub use harness::{FiredWindow, MessageStatus, StreamTester, TestMessage};
pub use mock_kafka::MockKafka;
pub use record::Record;
