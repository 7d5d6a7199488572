//! Kafka headers whose names are not UTF-8, which any producer can send but rdkafka's own
//! `insert` and accessors (`&str` names) cannot make or read.

use rdkafka::bindings as rd;
use rdkafka::message::{BorrowedHeaders, OwnedHeaders};

fn list(headers: &BorrowedHeaders) -> *mut rd::rd_kafka_headers_t {
    // A `BorrowedHeaders` reference is the address of librdkafka's list (see rdkafka's
    // `OwnedHeaders::as_borrowed`).
    (headers as *const BorrowedHeaders)
        .cast::<rd::rd_kafka_headers_t>()
        .cast_mut()
}

/// Headers with these names and values, byte for byte.
pub fn with_names(entries: &[(&[u8], &[u8])]) -> OwnedHeaders {
    let headers = OwnedHeaders::new();
    for (name, value) in entries {
        // SAFETY: the live list `headers` owns; librdkafka copies name and value.
        let added = unsafe {
            rd::rd_kafka_header_add(
                list(headers.as_borrowed()),
                name.as_ptr().cast(),
                name.len() as isize,
                value.as_ptr().cast(),
                value.len() as isize,
            )
        };
        assert_eq!(added, rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    headers
}

/// The names of `headers`, byte for byte (up to a NUL).
pub fn names(headers: &BorrowedHeaders) -> Vec<Vec<u8>> {
    let count = rdkafka::message::Headers::count(headers);
    (0..count)
        .map(|index| {
            let (mut name, mut value, mut size) = (std::ptr::null(), std::ptr::null(), 0);
            // SAFETY: a live list; the name is copied before `headers` is released.
            unsafe {
                rd::rd_kafka_header_get_all(list(headers), index, &mut name, &mut value, &mut size);
                std::ffi::CStr::from_ptr(name).to_bytes().to_vec()
            }
        })
        .collect()
}
