//! Payload decoding: JSON into any `Deserialize` type, or the raw bytes / text.
//!
//! `#[stream]` picks the codec from the parameter type: `Vec<u8>` takes the raw bytes, `String`
//! the payload as UTF-8 text (and the other owning types of bytes and text: `Box<[u8]>`,
//! `Arc<str>`, `Cow<'_, str>`, ...), `Option` of one of those the same but `None` for a
//! tombstone, and any other type is decoded from JSON (one of those types under another name
//! too, with a warning: see [`DecodedAsJson`]).

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::schema::Probe;

/// Why a payload could not be decoded. The message is failed in phase `parse`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The record has no value (a tombstone) but the resolver needs one.
    #[error("the message has no payload (null value)")]
    NullPayload,
    /// The payload is not valid JSON of the expected shape.
    #[error("invalid JSON for `{type_name}`: {source}")]
    Json {
        /// The type the payload was decoded into.
        type_name: &'static str,
        /// serde_json's description, with line and column.
        source: serde_json::Error,
    },
    /// The payload is not UTF-8 text.
    #[error("payload is not valid UTF-8: {0}")]
    Utf8(#[from] std::str::Utf8Error),
}

/// Decodes a record's payload into a resolver's input type.
pub trait Decode {
    /// What the payload decodes into.
    type Output;
    /// Decodes `payload`, which is `None` for a tombstone.
    fn decode(payload: Option<&[u8]>) -> Result<Self::Output, DecodeError>;
}

/// JSON payloads, decoded with serde_json into `T`.
pub struct Json<T>(PhantomData<fn() -> T>);

impl<T: JsonPayload> Decode for Json<T> {
    type Output = T;

    fn decode(payload: Option<&[u8]>) -> Result<T, DecodeError> {
        // A tombstone is `None` for an `Option<T>`; any other type has no value to take.
        let Some(bytes) = payload else {
            return T::deserialize(Tombstone).map_err(|_| DecodeError::NullPayload);
        };
        serde_json::from_slice(bytes).map_err(|source| DecodeError::Json {
            type_name: std::any::type_name::<T>(),
            source,
        })
    }
}

/// A message without a value, as serde sees it: what asks for an option gets `None`, and
/// anything else is refused (`serde_json::Value` and `()` too, which JSON `null` would give a
/// value).
struct Tombstone;

impl<'de> serde::Deserializer<'de> for Tombstone {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("the message has no payload"))
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// Types a stream can decode from JSON: every `serde::de::DeserializeOwned` type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be decoded from a message payload",
    label = "this type does not implement `serde::Deserialize`",
    note = "add `#[derive(serde::Deserialize)]` to `{Self}`, or take `Vec<u8>` or `String` for the raw payload",
    note = "the envelope is recognised as written, `Message<T>`: a type alias of it is taken for a payload type, so write `Message<T>` itself"
)]
pub trait JsonPayload: DeserializeOwned {}

// Errors name `JsonPayload` and its advice rather than listing every `Deserialize` type.
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> JsonPayload for T {}

/// Raw payloads: the bytes as they are (empty for a tombstone), in a `Vec<u8>` or any type
/// made from one (`Box<[u8]>`, `Arc<[u8]>`).
pub struct Bytes<T = Vec<u8>>(PhantomData<fn() -> T>);

impl<T: From<Vec<u8>>> Decode for Bytes<T> {
    type Output = T;

    fn decode(payload: Option<&[u8]>) -> Result<T, DecodeError> {
        Ok(T::from(payload.map(<[u8]>::to_vec).unwrap_or_default()))
    }
}

/// Text payloads: the bytes as UTF-8 (empty for a tombstone), in a `String` or any type made
/// from one (`Box<str>`, `Arc<str>`, `Cow<'_, str>`).
pub struct Utf8<T = String>(PhantomData<fn() -> T>);

impl<T: From<String>> Decode for Utf8<T> {
    type Output = T;

    fn decode(payload: Option<&[u8]>) -> Result<T, DecodeError> {
        let bytes = payload.unwrap_or_default();
        Ok(T::from(std::str::from_utf8(bytes)?.to_owned()))
    }
}

/// Raw payloads that may be tombstones (`Option<String>`, `Option<Vec<u8>>`, ...): `None` for a
/// message without a value, what `C` decodes otherwise.
pub struct Optional<C>(PhantomData<fn() -> C>);

impl<C: Decode> Decode for Optional<C> {
    type Output = Option<C::Output>;

    fn decode(payload: Option<&[u8]>) -> Result<Self::Output, DecodeError> {
        payload.map(|bytes| C::decode(Some(bytes))).transpose()
    }
}

/// A payload type that `#[stream]` decodes from JSON, as generated code sees it: the macro tells
/// `Vec<u8>` and `String` apart by how the type is written, so under another name (a type alias)
/// they reach here. Calling [`DecodedAsJson::decoded_as_json`] on the probe resolves, for those two,
/// to an inherent method that is deprecated, which makes rustc warn at the user's type.
pub trait DecodedAsJson {
    /// Nothing: every other type is meant to be decoded from JSON.
    fn decoded_as_json(&self) {}
}

impl<T> DecodedAsJson for Probe<T> {}

/// For each type that `#[stream]` takes as raw bytes or text when written as it is: under
/// another name, `decoded_as_json` resolves to this deprecated method, which warns at the name.
macro_rules! decoded_as_json_warning {
    ($note:literal: $($ty:ty),+) => {$(
        impl Probe<$ty> {
            /// Warns: the payload is decoded from JSON, not taken as it is.
            #[deprecated(note = $note)]
            pub fn decoded_as_json(&self) {}
        }
    )+};
}

decoded_as_json_warning!(
    "this is `String` under another name (a type alias), so each payload is decoded from JSON, as a quoted string: write `String` itself to take the payload as text, or decode a JSON string into a `#[derive(Deserialize)]` newtype":
    String
);

decoded_as_json_warning!(
    "this is `Vec<u8>` under another name (a type alias), so each payload is decoded from JSON, as an array of numbers: write `Vec<u8>` itself to take the raw bytes, or decode a JSON array into a `#[derive(Deserialize)]` newtype":
    Vec<u8>
);

decoded_as_json_warning!(
    "this is a text type under another name (a type alias), so each payload is decoded from JSON, as a quoted string: write the type itself (`Box<str>`, `Arc<str>`, `Rc<str>`, `Cow<str>`) to take the payload as text":
    Box<str>, std::sync::Arc<str>, std::rc::Rc<str>, std::borrow::Cow<'static, str>
);

decoded_as_json_warning!(
    "this is a byte type under another name (a type alias), so each payload is decoded from JSON, as an array of numbers: write the type itself (`Box<[u8]>`, `Arc<[u8]>`, `Rc<[u8]>`, `Cow<[u8]>`) to take the raw bytes":
    Box<[u8]>, std::sync::Arc<[u8]>, std::rc::Rc<[u8]>, std::borrow::Cow<'static, [u8]>
);

decoded_as_json_warning!(
    "this is `Option` of a text or byte type, written under another name (a type alias), so each payload is decoded from JSON: write `Option<String>` or `Option<Vec<u8>>` (or `Option` of another text or byte type) itself to take a tombstone as `None` and any other payload as it is":
    Option<String>, Option<Vec<u8>>,
    Option<Box<str>>, Option<std::sync::Arc<str>>, Option<std::rc::Rc<str>>,
    Option<std::borrow::Cow<'static, str>>,
    Option<Box<[u8]>>, Option<std::sync::Arc<[u8]>>, Option<std::rc::Rc<[u8]>>,
    Option<std::borrow::Cow<'static, [u8]>>
);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Body {
        user_id: String,
    }

    #[test]
    fn json_decodes_and_reports_errors() {
        let ok = Json::<Body>::decode(Some(br#"{"user_id":"u1"}"#)).expect("valid JSON");
        assert_eq!(ok.user_id, "u1");
        let err = Json::<Body>::decode(Some(b"{")).expect_err("truncated JSON");
        assert!(err.to_string().contains("invalid JSON for"), "{err}");
        assert!(matches!(
            Json::<Body>::decode(None),
            Err(DecodeError::NullPayload)
        ));
    }

    #[test]
    fn a_tombstone_is_none_for_an_optional_payload() {
        assert_eq!(
            Json::<Option<Body>>::decode(None).expect("a tombstone"),
            None
        );
        for refused in [
            Json::<serde_json::Value>::decode(None).map(|_| ()),
            Json::<()>::decode(None),
            Json::<Body>::decode(None).map(|_| ()),
        ] {
            assert!(
                matches!(refused, Err(DecodeError::NullPayload)),
                "{refused:?}"
            );
        }
        assert_eq!(
            Json::<Option<Body>>::decode(Some(br#"{"user_id":"u1"}"#)).expect("a body"),
            Some(Body {
                user_id: "u1".to_owned()
            })
        );
    }

    #[test]
    fn a_float_decodes_to_exactly_the_float_written() {
        // The shortest text of each; without `float_roundtrip` serde_json reads the first as
        // 9.941414234139937e-6.
        for written in [
            9.941414234139935e-6_f64,
            0.1,
            1.0e300,
            -2.2250738585072014e-308,
        ] {
            let text = written.to_string();
            let read = Json::<f64>::decode(Some(text.as_bytes())).expect("a number");
            assert_eq!(read.to_bits(), written.to_bits(), "{text}");
        }
    }

    #[test]
    fn raw_codecs() {
        assert_eq!(
            <Bytes>::decode(Some(&[0xff, 0])).expect("bytes"),
            vec![0xff, 0]
        );
        assert_eq!(<Bytes>::decode(None).expect("tombstone"), Vec::<u8>::new());
        assert_eq!(<Utf8>::decode(Some(b"hi")).expect("text"), "hi");
        assert!(<Utf8>::decode(Some(&[0xff])).is_err());
        let shared = Utf8::<std::sync::Arc<str>>::decode(Some(b"hi")).expect("text");
        assert_eq!(&*shared, "hi");
        let boxed = Bytes::<Box<[u8]>>::decode(None).expect("a tombstone's bytes");
        assert!(boxed.is_empty());
    }

    #[test]
    fn an_optional_raw_payload_is_none_only_for_a_tombstone() {
        assert_eq!(Optional::<Utf8>::decode(None).expect("a tombstone"), None);
        assert_eq!(
            Optional::<Utf8>::decode(Some(b"")).expect("an empty text"),
            Some(String::new())
        );
        assert_eq!(
            Optional::<Utf8>::decode(Some(b"hi")).expect("a text"),
            Some("hi".to_owned())
        );
        assert!(Optional::<Utf8>::decode(Some(&[0xff])).is_err());
        assert_eq!(Optional::<Bytes>::decode(None).expect("a tombstone"), None);
        assert_eq!(
            Optional::<Bytes>::decode(Some(&[0xff])).expect("bytes"),
            Some(vec![0xff])
        );
    }
}
