//! Helpers for testing streams against a real Kafka protocol without installing a broker:
//! librdkafka's mock cluster, in-process, on a loopback port.

mod flaky_store;
mod mock_kafka;
mod record;

pub use flaky_store::FlakyStore;
pub use mock_kafka::MockKafka;
pub use record::Record;
