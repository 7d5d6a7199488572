//! Kafka headers read and edited through librdkafka itself: rdkafka's accessors `unwrap` each
//! name as UTF-8 and panic on any other, which any producer can send.

use rdkafka::bindings as rd;
use rdkafka::message::{BorrowedHeaders, Headers as _, OwnedHeaders};

/// librdkafka's header list behind rdkafka's view of it. A `BorrowedHeaders` reference is the
/// list's address: rdkafka makes one by casting that pointer (`OwnedHeaders::as_borrowed`) and
/// reads it back the same way.
fn list(headers: &BorrowedHeaders) -> *mut rd::rd_kafka_headers_t {
    (headers as *const BorrowedHeaders)
        .cast::<rd::rd_kafka_headers_t>()
        .cast_mut()
}

/// The headers of `message`, if it has any, as rdkafka's view of them (made as rdkafka makes
/// its own, from the list's address).
///
/// # Safety
///
/// `message` is null or a librdkafka message that lives for `'a`.
pub(crate) unsafe fn of_message<'a>(
    message: *mut rd::rd_kafka_message_t,
) -> Option<&'a BorrowedHeaders> {
    if message.is_null() {
        return None;
    }
    let mut list = std::ptr::null_mut();
    // librdkafka parses a delivered message's headers at the first call and writes the list's
    // address into the message, without a lock of its own; a resolver may read one message's
    // headers from several threads (`RawHeaders` is `Send` and `Sync`), so the calls take turns.
    static PARSING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = PARSING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // SAFETY: `message` is live (the caller's promise); librdkafka parses its headers once,
    // keeps them with the message and writes their list's address; after that it only reads.
    let found = unsafe { rd::rd_kafka_message_headers(message, &mut list) };
    (found == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && !list.is_null())
        // SAFETY: the list lives as long as the message.
        .then(|| unsafe { &*list.cast_const().cast::<BorrowedHeaders>() })
}

/// Every header in order: its name's bytes (librdkafka hands names out NUL-terminated, so up
/// to a NUL byte) and its value, borrowed from the list.
pub(crate) fn entries(headers: &BorrowedHeaders) -> Vec<(&[u8], Option<&[u8]>)> {
    (0..headers.count())
        .filter_map(|index| {
            let mut name = std::ptr::null();
            let mut value = std::ptr::null();
            let mut size = 0;
            // SAFETY: `list` is live for the borrow of `headers`, which outlives the slices
            // returned: librdkafka writes a NUL-terminated name and a value of `size` bytes (or
            // null), both owned by the list.
            unsafe {
                let found = rd::rd_kafka_header_get_all(
                    list(headers),
                    index,
                    &mut name,
                    &mut value,
                    &mut size,
                );
                if found != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
                    return None;
                }
                let name = std::ffi::CStr::from_ptr(name).to_bytes();
                let value = (!value.is_null())
                    .then(|| std::slice::from_raw_parts(value.cast::<u8>(), size));
                Some((name, value))
            }
        })
        .collect()
}

/// Headers with these names and values, byte for byte: names that are not UTF-8 included,
/// which rdkafka's own `insert` (`&str` names) cannot make.
pub(crate) fn with_names(entries: &[(&[u8], &[u8])]) -> OwnedHeaders {
    let entries: Vec<(&[u8], Option<&[u8]>)> = entries
        .iter()
        .map(|(name, value)| (*name, Some(*value)))
        .collect();
    from_entries(&entries)
}

/// Headers with these names and values (`None`: a null value), byte for byte, in order.
pub(crate) fn from_entries(entries: &[(&[u8], Option<&[u8]>)]) -> OwnedHeaders {
    let headers = OwnedHeaders::new();
    for (name, value) in entries {
        let (value, size) = value.map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len()));
        // SAFETY: the live list `headers` owns, which is not read-only; librdkafka copies name
        // and value (a null value with size 0 is a null header value), and can only refuse a
        // read-only list.
        unsafe {
            rd::rd_kafka_header_add(
                list(headers.as_borrowed()),
                name.as_ptr().cast(),
                name.len() as isize,
                value.cast(),
                size as isize,
            );
        }
    }
    headers
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Headers whose first name is not UTF-8 (rdkafka's own `insert` takes only `&str`).
    pub(crate) fn with_a_bad_name() -> OwnedHeaders {
        with_names(&[(b"\xffbad", b"v"), (b"ok", b"w"), (b"chalk.stream", b"s")])
    }

    #[test]
    fn names_that_are_not_utf8_are_read_and_kept() {
        let headers = with_a_bad_name();
        let read = entries(headers.as_borrowed());
        assert_eq!(
            read,
            [
                (b"\xffbad".as_slice(), Some(b"v".as_slice())),
                (b"ok", Some(b"w")),
                (b"chalk.stream", Some(b"s")),
            ]
        );
        let copied = from_entries(&read);
        assert_eq!(entries(copied.as_borrowed()), read);
    }

    #[test]
    fn a_null_value_is_kept_apart_from_an_empty_one() {
        let entries_in: [(&[u8], Option<&[u8]>); 2] = [(b"null", None), (b"empty", Some(b""))];
        let headers = from_entries(&entries_in);
        assert_eq!(entries(headers.as_borrowed()), entries_in);
    }
}
