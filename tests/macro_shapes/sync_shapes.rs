//! Each input and output shape of a synchronous resolver, called on a hand-built message.

use super::*;

#[test]
fn message_input() {
    let topic = topic();
    let rows = run_sync("macro_shapes::favorite_color", &raw(BODY, None, &topic));
    assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]));
    assert_parse_error(run_sync(
        "macro_shapes::favorite_color",
        &raw(b"{not json", None, &topic),
    ));
}

#[test]
fn value_input() {
    let topic = topic();
    let rows = run_sync("bare_value", &raw(NO_COLOR, None, &topic));
    assert_eq!(rows, Ok(vec![user_row("u2", None, 3)]));
    assert_parse_error(run_sync("bare_value", &raw(br#"{"age":1}"#, None, &topic)));
}

#[test]
fn tombstones_fail_json_inputs() {
    let topic = topic();
    let tombstone = RawMessage {
        payload: None,
        ..raw(b"", None, &topic)
    };
    assert_parse_error(run_sync("bare_value", &tombstone));
}

#[test]
fn bytes_input() {
    let topic = topic();
    let rows = run_sync(
        "macro_shapes::from_bytes",
        &raw(&[1, 2, 0xff], None, &topic),
    );
    assert_eq!(rows, Ok(vec![user_row("len-3", None, 258)]));
}

/// `Option<String>` and `Option<Box<[u8]>>` take a tombstone as `None` and any payload as it is,
/// not as JSON.
#[test]
fn optional_text_and_bytes_inputs() {
    let topic = topic();
    let tombstone = RawMessage {
        payload: None,
        ..raw(b"", None, &topic)
    };
    for (name, payload, uid) in [
        ("macro_shapes::text_or_tombstone", &b"green"[..], "green"),
        ("macro_shapes::text_or_tombstone", b"", ""),
        ("macro_shapes::bytes_or_tombstone", &[0xff, 0], "len-2"),
    ] {
        let rows = run_sync(name, &raw(payload, None, &topic));
        assert_eq!(rows, Ok(vec![user_row(uid, None, 0)]), "{name}");
        let rows = run_sync(name, &tombstone);
        assert_eq!(rows, Ok(vec![user_row("tombstone", None, 0)]), "{name}");
    }
    assert_parse_error(run_sync(
        "macro_shapes::text_or_tombstone",
        &raw(&[0xff], None, &topic),
    ));
}

#[test]
fn text_input() {
    let topic = topic();
    let rows = run_sync("text", &raw(b"green", None, &topic));
    assert_eq!(rows, Ok(vec![user_row("GREEN", Some("green"), 0)]));
    assert_parse_error(run_sync("text", &raw(&[0xff, 0xfe], None, &topic)));
}

/// Text and bytes are taken as they are in `Box<str>`, `Cow<str>` and `Arc<[u8]>` too, not
/// decoded from JSON.
#[test]
fn text_and_bytes_in_other_owning_types() {
    let topic = topic();
    let rows = run_sync("macro_shapes::boxed_text", &raw(b"green", None, &topic));
    assert_eq!(rows, Ok(vec![user_row("GREEN", None, 0)]));
    assert_parse_error(run_sync(
        "macro_shapes::boxed_text",
        &raw(&[0xff], None, &topic),
    ));
    let rows = run_sync("macro_shapes::keyed_cow_text", &raw(b"teal", None, &topic));
    assert_eq!(rows, Ok(vec![user_row("teal", None, 0)]));
    let rows = run_sync(
        "macro_shapes::shared_bytes",
        &raw(&[1, 2, 0xff], None, &topic),
    );
    assert_eq!(rows, Ok(vec![user_row("len-3", None, 0)]));
    let rows = run_sync("macro_shapes::rc_bytes", &raw(&[7, 8], None, &topic));
    assert_eq!(rows, Ok(vec![user_row("len-2", None, 0)]));
    let rows = run_sync("macro_shapes::cow_text", &raw(b"plain", None, &topic));
    assert_eq!(rows, Ok(vec![user_row("plain", None, 0)]));
}

#[test]
fn message_of_text_input() {
    let topic = topic();
    let rows = run_sync(
        "macro_shapes::keyed_text",
        &raw(b"teal", Some(b"user-9"), &topic),
    );
    assert_eq!(rows, Ok(vec![user_row("user-9", Some("teal"), 17)]));
}

#[test]
fn message_of_bytes_input() {
    let topic = topic();
    let rows = run_sync("macro_shapes::profile", &raw(b"", None, &topic)).expect("resolves");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].namespace, "user_profile");
    assert_eq!(rows[0].primary_key, "42");
    assert_eq!(
        rows[0].values[0],
        ("type", FeatureValue::String("user_updates".to_owned()))
    );
    assert_eq!(rows[0].time, TIME);
}

#[test]
fn option_output() {
    let topic = topic();
    let rows = run_sync("macro_shapes::maybe_user", &raw(BODY, None, &topic));
    assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]));
    let rows = run_sync("macro_shapes::maybe_user", &raw(NO_COLOR, None, &topic));
    assert_eq!(rows, Ok(vec![]));
}

#[test]
fn vec_output_fans_out() {
    let topic = topic();
    let rows = run_sync("macro_shapes::fan_out", &raw(NO_COLOR, None, &topic));
    assert_eq!(
        rows,
        Ok(vec![
            user_row("u2-0", None, 0),
            user_row("u2-1", None, 1),
            user_row("u2-2", None, 2),
        ])
    );
}

#[test]
fn result_output() {
    let topic = topic();
    let rows = run_sync("macro_shapes::checked", &raw(BODY, None, &topic));
    assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]));
    let error = run_sync("macro_shapes::checked", &raw(NEGATIVE, None, &topic))
        .expect_err("negative age is rejected");
    assert_eq!(
        error,
        MessageError::new(Phase::Resolver, "rejected: negative age")
    );
}

#[test]
fn resolvers_named_like_the_generated_parameters() {
    let topic = topic();
    for name in ["macro_shapes::names::raw", "macro_shapes::names::rows"] {
        let rows = run_sync(name, &raw(BODY, None, &topic));
        assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]), "{name}");
    }
}

#[test]
fn the_envelope_through_an_applications_own_paths() {
    let topic = topic();
    // Its own prelude, and its crate's root.
    for name in [
        "macro_shapes::names::from_own_prelude",
        "macro_shapes::names::from_crate_root",
    ] {
        let rows = run_sync(name, &raw(BODY, None, &topic));
        assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]), "{name}");
    }
}

#[test]
fn a_users_own_message_type_is_a_json_payload() {
    let topic = topic();
    let body = br#"{"body":{"user_id":"u1","favorite_color":"blue","age":30}}"#;
    // Also through a `prelude` of its own.
    for name in [
        "macro_shapes::names::from_proto",
        "macro_shapes::names::from_proto_prelude",
    ] {
        let rows = run_sync(name, &raw(body, None, &topic));
        assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]), "{name}");
        assert_parse_error(run_sync(name, &raw(BODY, None, &topic)));
    }
}

#[test]
fn a_crate_path_given_to_the_macros_is_used() {
    let topic = topic();
    let expected = FeatureRow {
        namespace: "member",
        primary_key: "u1".to_owned(),
        values: vec![("age", FeatureValue::Int(30))],
        time: TIME,
    };
    // The second names `Message` through that path: it is the envelope, not a payload type.
    for name in [
        "macro_shapes::through_a_reexport::member",
        "macro_shapes::through_a_reexport::member_envelope",
    ] {
        let rows = run_sync(name, &raw(BODY, None, &topic));
        assert_eq!(rows, Ok(vec![expected.clone()]), "{name}");
    }
}
