//! What the tests share: finding a stream, building a message, calling a resolver.

use super::*;

pub(crate) fn descriptor(name: &str) -> &'static StreamDescriptor {
    let registry = Registry::collect().expect("the streams of this test binary are registered");
    registry
        .get(name)
        .unwrap_or_else(|| panic!("no stream `{name}` in {registry:?}"))
}

pub(crate) fn topic() -> Arc<str> {
    Arc::from("user_updates")
}

pub(crate) fn raw<'a>(
    payload: &'a [u8],
    key: Option<&'a [u8]>,
    topic: &'a Arc<str>,
) -> RawMessage<'a> {
    RawMessage {
        payload: Some(payload),
        key,
        topic,
        partition: 3,
        offset: 17,
        timestamp: Some(TIME),
        headers: RawHeaders::None,
    }
}

pub(crate) fn run_sync(
    name: &str,
    message: &RawMessage<'_>,
) -> Result<Vec<FeatureRow>, MessageError> {
    let Resolver::Sync(resolve) = descriptor(name).resolver() else {
        panic!("`{name}` should be a sync resolver");
    };
    let mut rows = Vec::new();
    resolve(message, &mut rows).map(|()| rows)
}

pub(crate) async fn run_async(
    name: &str,
    message: &RawMessage<'_>,
) -> Result<Vec<FeatureRow>, MessageError> {
    let Resolver::Async(resolve) = descriptor(name).resolver() else {
        panic!("`{name}` should be an async resolver");
    };
    resolve(message)?.await
}

pub(crate) fn user_row(uid: &str, color: Option<&str>, age: i64) -> FeatureRow {
    let mut values = Vec::new();
    if let Some(color) = color {
        values.push(("favorite_color", FeatureValue::String(color.to_owned())));
    }
    values.push(("age", FeatureValue::Int(age)));
    FeatureRow {
        namespace: "user",
        primary_key: uid.to_owned(),
        values,
        time: TIME,
    }
}

pub(crate) const BODY: &[u8] = br#"{"user_id":"u1","favorite_color":"blue","age":30}"#;
pub(crate) const NO_COLOR: &[u8] = br#"{"user_id":"u2","favorite_color":null,"age":3}"#;
pub(crate) const NEGATIVE: &[u8] = br#"{"user_id":"u3","favorite_color":"red","age":-1}"#;

pub(crate) fn assert_parse_error(result: Result<Vec<FeatureRow>, MessageError>) {
    match result {
        Err(MessageError {
            phase: Phase::Parse,
            ..
        }) => {}
        other => panic!("expected a parse error, got {other:?}"),
    }
}
