//! Kafka headers byte for byte, names that are not UTF-8 included: any producer can send them,
//! but rdkafka's own `insert` and accessors take and give `&str` names.

use rdkafka::message::{BorrowedHeaders, OwnedHeaders};

/// Headers with these names and values, byte for byte, in order.
pub fn with_names(entries: &[(&[u8], &[u8])]) -> OwnedHeaders {
    crate::kafka_headers::with_names(entries)
}

/// The names of `headers`, byte for byte (up to a NUL), in order.
pub fn names(headers: &BorrowedHeaders) -> Vec<Vec<u8>> {
    crate::kafka_headers::entries(headers)
        .into_iter()
        .map(|(name, _)| name.to_vec())
        .collect()
}

/// The names and values of `headers` (`None`: a null value), byte for byte, in order.
pub fn entries(headers: &BorrowedHeaders) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    crate::kafka_headers::entries(headers)
        .into_iter()
        .map(|(name, value)| (name.to_vec(), value.map(<[u8]>::to_vec)))
        .collect()
}
