//! What the registry knows of each stream: names, custom names, one registration each.

use super::*;

#[test]
fn names_default_to_the_function_path() {
    let stream = descriptor("macro_shapes::favorite_color");
    assert_eq!(stream.function(), "macro_shapes::favorite_color");
    assert!(std::ptr::eq(stream.source(), &USER_UPDATES));
    assert!(stream.location().starts_with("tests/macro_shapes/main.rs:"));

    let stream = descriptor("macro_shapes::from_bytes");
    assert!(std::ptr::eq(stream.source(), &RAW_EVENTS));

    let stream = descriptor("macro_shapes::match");
    assert_eq!(stream.function(), "macro_shapes::match");
    assert!(std::ptr::eq(stream.source(), &sources::CLICKS));
}

#[test]
fn custom_names_are_honoured() {
    let stream = descriptor("bare_value");
    assert_eq!(stream.function(), "macro_shapes::from_value");
    assert!(std::ptr::eq(stream.source(), &USER_UPDATES));

    let stream = descriptor("text");
    assert_eq!(stream.function(), "macro_shapes::from_text");
    assert!(std::ptr::eq(stream.source(), &RAW_EVENTS));

    let stream = descriptor("async_value");
    assert_eq!(stream.function(), "macro_shapes::async_from_value");
    assert!(matches!(stream.resolver(), Resolver::Async(_)));
}

#[test]
fn every_stream_is_registered_once() {
    let registry = Registry::collect().expect("no duplicate names");
    let mut names: Vec<_> = registry.streams().iter().map(|s| s.name()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "async_value",
            "bare_value",
            "macro_shapes::async_bytes",
            "macro_shapes::async_cow_text",
            "macro_shapes::async_fan_out",
            "macro_shapes::async_favorite_color",
            "macro_shapes::boxed_text",
            "macro_shapes::bytes_or_tombstone",
            "macro_shapes::checked",
            "macro_shapes::cow_text",
            "macro_shapes::fan_out",
            "macro_shapes::favorite_color",
            "macro_shapes::from_bytes",
            "macro_shapes::from_macros::windowed_by_macro",
            "macro_shapes::keyed_cow_text",
            "macro_shapes::keyed_text",
            "macro_shapes::match",
            "macro_shapes::maybe_user",
            "macro_shapes::names::from_crate_root",
            "macro_shapes::names::from_own_prelude",
            "macro_shapes::names::from_proto",
            "macro_shapes::names::from_proto_prelude",
            "macro_shapes::names::raw",
            "macro_shapes::names::rows",
            "macro_shapes::old_text",
            "macro_shapes::phased_out::from_old_body",
            "macro_shapes::profile",
            "macro_shapes::rc_bytes",
            "macro_shapes::shared_bytes",
            "macro_shapes::strict::current_text",
            "macro_shapes::strict::forbidding",
            "macro_shapes::text_or_tombstone",
            "macro_shapes::through_a_reexport::member",
            "macro_shapes::through_a_reexport::member_envelope",
            "text",
        ]
    );
}

/// The entity a stream writes is its return type's, through `Option`, `Vec` and `Result`.
#[test]
fn each_stream_records_the_entity_it_writes() {
    let user = StreamEntity {
        namespace: "user",
        features: &["favorite_color", "age"],
    };
    for name in [
        "macro_shapes::favorite_color",
        "macro_shapes::maybe_user",
        "macro_shapes::fan_out",
        "macro_shapes::checked",
        "async_value",
    ] {
        assert_eq!(descriptor(name).entity(), Some(user), "{name}");
    }
    assert_eq!(
        descriptor("macro_shapes::profile").entity(),
        Some(StreamEntity {
            namespace: "user_profile",
            features: &["type", "tags", "score"],
        })
    );
}

/// Raw payloads are described as the wire has them, and an `Option` of one may be null: a
/// tombstone, which the resolver takes as `None`.
#[test]
fn raw_payloads_are_described_with_their_tombstones() {
    let schema = |name| descriptor(name).payload_schema();
    assert_eq!(
        schema("macro_shapes::from_bytes"),
        serde_json::json!({ "type": "string", "contentEncoding": "binary" })
    );
    assert_eq!(schema("text"), serde_json::json!({ "type": "string" }));
    assert_eq!(
        schema("macro_shapes::text_or_tombstone"),
        serde_json::json!({ "type": ["string", "null"] })
    );
    assert_eq!(
        schema("macro_shapes::bytes_or_tombstone"),
        serde_json::json!({ "type": ["string", "null"], "contentEncoding": "binary" })
    );
}
