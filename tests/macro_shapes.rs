//! Every accepted `#[stream]` shape and `#[derive(Features)]` expansion, exercised through the
//! registry without a Kafka cluster: each resolver is called on a hand-built `RawMessage`.

use std::fmt;
use std::sync::Arc;

use chalk_streams::__private::RawMessage;
use chalk_streams::message::RawHeaders;
use chalk_streams::prelude::*;
use chalk_streams::registry::{Registry, StreamDescriptor};
use chalk_streams::resolver::{MessageError, Phase, Resolver};
use chalk_streams::{FeatureRow, FeatureValue};
use serde::Deserialize;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");
static RAW_EVENTS: KafkaSource = KafkaSource::new().topic("raw_events");

const TIME: Timestamp = Timestamp::from_millis(1_700_000_000_000);

#[derive(Debug, Deserialize)]
struct UserUpdateBody {
    user_id: String,
    favorite_color: Option<String>,
    #[serde(default)]
    age: i64,
}

#[derive(Features, Default)]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<String>,
    age: i64,
}

#[derive(Features)]
struct UserProfile {
    #[primary]
    r#id: u64,
    r#type: String,
    tags: Vec<String>,
    score: Option<f64>,
}

/// Why a resolver refused a message.
#[derive(Debug)]
struct Rejected(&'static str);

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rejected: {}", self.0)
    }
}

fn user(body: UserUpdateBody) -> User {
    User {
        uid: body.user_id,
        favorite_color: body.favorite_color,
        age: body.age,
    }
}

// ---- sync resolvers -----------------------------------------------------------------------

#[stream(source = USER_UPDATES)]
fn favorite_color(message: Message<UserUpdateBody>) -> User {
    user(message.value)
}

#[stream(source = USER_UPDATES, name = "bare_value")]
fn from_value(body: UserUpdateBody) -> User {
    user(body)
}

#[stream(source = RAW_EVENTS)]
fn from_bytes(payload: Vec<u8>) -> User {
    User {
        uid: format!("len-{}", payload.len()),
        age: payload.iter().map(|b| i64::from(*b)).sum(),
        ..User::default()
    }
}

#[stream(source = RAW_EVENTS, name = "text")]
fn from_text(text: String) -> User {
    User {
        uid: text.to_uppercase(),
        favorite_color: Some(text),
        ..User::default()
    }
}

#[stream(source = RAW_EVENTS)]
fn keyed_text(message: Message<String>) -> User {
    User {
        uid: message.key_str().unwrap_or("no-key").to_owned(),
        favorite_color: Some(message.value),
        age: message.offset,
    }
}

#[stream(source = USER_UPDATES)]
fn maybe_user(body: UserUpdateBody) -> Option<User> {
    body.favorite_color.is_some().then(|| user(body))
}

#[stream(source = USER_UPDATES)]
fn fan_out(body: UserUpdateBody) -> Vec<User> {
    (0..body.age)
        .map(|i| User {
            uid: format!("{}-{i}", body.user_id),
            age: i,
            ..User::default()
        })
        .collect()
}

#[stream(source = USER_UPDATES)]
fn checked(body: UserUpdateBody) -> Result<User, Rejected> {
    if body.age < 0 {
        Err(Rejected("negative age"))
    } else {
        Ok(user(body))
    }
}

#[stream(source = RAW_EVENTS)]
fn profile(message: Message<Vec<u8>>) -> UserProfile {
    UserProfile {
        r#id: 42,
        r#type: message.topic.to_string(),
        tags: vec!["a".to_owned(), "b".to_owned()],
        score: None,
    }
}

mod sources {
    use chalk_streams::KafkaSource;

    pub static CLICKS: KafkaSource = KafkaSource::new().topic("clicks");
}

// A raw identifier, and a source named by path.
#[stream(source = sources::CLICKS)]
fn r#match(uid: String) -> User {
    User {
        uid,
        ..User::default()
    }
}

// `#[cfg]` after `#[stream]`: the registration is compiled out with the function.
#[stream(source = USER_UPDATES)]
#[cfg(any())]
fn compiled_out(uid: String) -> User {
    User {
        uid,
        ..User::default()
    }
}

// ---- async resolvers ----------------------------------------------------------------------

#[stream(source = USER_UPDATES)]
async fn async_favorite_color(message: Message<UserUpdateBody>) -> User {
    tokio::task::yield_now().await;
    user(message.value)
}

#[stream(source = USER_UPDATES, name = "async_value")]
async fn async_from_value(body: UserUpdateBody) -> Result<Option<User>, Rejected> {
    tokio::task::yield_now().await;
    match body.age {
        age if age < 0 => Err(Rejected("negative age")),
        0 => Ok(None),
        _ => Ok(Some(user(body))),
    }
}

#[stream(source = RAW_EVENTS)]
async fn async_fan_out(text: String) -> Vec<User> {
    text.split(',')
        .map(|uid| User {
            uid: uid.to_owned(),
            ..User::default()
        })
        .collect()
}

#[stream(source = RAW_EVENTS)]
async fn async_bytes(message: Message<Vec<u8>>) -> User {
    User {
        uid: message.partition.to_string(),
        age: i64::try_from(message.value.len()).unwrap_or(i64::MAX),
        ..User::default()
    }
}

// ---- helpers ------------------------------------------------------------------------------

fn descriptor(name: &str) -> &'static StreamDescriptor {
    let registry = Registry::collect().expect("the streams in this file are registered");
    registry
        .get(name)
        .unwrap_or_else(|| panic!("no stream `{name}` in {registry:?}"))
}

fn topic() -> Arc<str> {
    Arc::from("user_updates")
}

fn raw<'a>(payload: &'a [u8], key: Option<&'a [u8]>, topic: &'a Arc<str>) -> RawMessage<'a> {
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

fn run_sync(name: &str, message: &RawMessage<'_>) -> Result<Vec<FeatureRow>, MessageError> {
    let Resolver::Sync(resolve) = descriptor(name).resolver() else {
        panic!("`{name}` should be a sync resolver");
    };
    let mut rows = Vec::new();
    resolve(message, &mut rows).map(|()| rows)
}

async fn run_async(name: &str, message: &RawMessage<'_>) -> Result<Vec<FeatureRow>, MessageError> {
    let Resolver::Async(resolve) = descriptor(name).resolver() else {
        panic!("`{name}` should be an async resolver");
    };
    resolve(message)?.await
}

fn user_row(uid: &str, color: Option<&str>, age: i64) -> FeatureRow {
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

const BODY: &[u8] = br#"{"user_id":"u1","favorite_color":"blue","age":30}"#;
const NO_COLOR: &[u8] = br#"{"user_id":"u2","favorite_color":null,"age":3}"#;
const NEGATIVE: &[u8] = br#"{"user_id":"u3","favorite_color":"red","age":-1}"#;

fn assert_parse_error(result: Result<Vec<FeatureRow>, MessageError>) {
    match result {
        Err(MessageError {
            phase: Phase::Parse,
            ..
        }) => {}
        other => panic!("expected a parse error, got {other:?}"),
    }
}

// ---- derive(Features) ---------------------------------------------------------------------

#[test]
fn derived_features_metadata() {
    assert_eq!(User::NAMESPACE, "user");
    assert_eq!(User::PRIMARY_KEY, "uid");
    assert_eq!(User::FEATURES, ["favorite_color", "age"]);
    assert_eq!(UserProfile::NAMESPACE, "user_profile");
    assert_eq!(UserProfile::PRIMARY_KEY, "id");
    assert_eq!(UserProfile::FEATURES, ["type", "tags", "score"]);
}

#[test]
fn derived_into_row_skips_none() {
    let row = User {
        uid: "u".to_owned(),
        favorite_color: None,
        age: 7,
    }
    .into_row(TIME);
    assert_eq!(row, user_row("u", None, 7));

    let row = UserProfile {
        r#id: 9,
        r#type: "admin".to_owned(),
        tags: vec![],
        score: Some(0.5),
    }
    .into_row(TIME);
    assert_eq!(row.namespace, "user_profile");
    assert_eq!(row.primary_key, "9");
    assert_eq!(
        row.values,
        vec![
            ("type", FeatureValue::String("admin".to_owned())),
            ("tags", FeatureValue::List(vec![])),
            ("score", FeatureValue::Float(0.5)),
        ]
    );
}

// ---- registry metadata --------------------------------------------------------------------

#[test]
fn names_default_to_the_function_path() {
    let stream = descriptor("macro_shapes::favorite_color");
    assert_eq!(stream.function(), "macro_shapes::favorite_color");
    assert!(std::ptr::eq(stream.source(), &USER_UPDATES));
    assert!(stream.location().starts_with("tests/macro_shapes.rs:"));

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
            "macro_shapes::async_fan_out",
            "macro_shapes::async_favorite_color",
            "macro_shapes::checked",
            "macro_shapes::fan_out",
            "macro_shapes::favorite_color",
            "macro_shapes::from_bytes",
            "macro_shapes::keyed_text",
            "macro_shapes::match",
            "macro_shapes::maybe_user",
            "macro_shapes::profile",
            "text",
        ]
    );
}

// ---- sync resolvers -----------------------------------------------------------------------

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

#[test]
fn text_input() {
    let topic = topic();
    let rows = run_sync("text", &raw(b"green", None, &topic));
    assert_eq!(rows, Ok(vec![user_row("GREEN", Some("green"), 0)]));
    assert_parse_error(run_sync("text", &raw(&[0xff, 0xfe], None, &topic)));
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

// ---- async resolvers ----------------------------------------------------------------------

#[tokio::test]
async fn async_message_input() {
    let topic = topic();
    let name = "macro_shapes::async_favorite_color";
    let rows = run_async(name, &raw(BODY, None, &topic)).await;
    assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]));
    assert_parse_error(run_async(name, &raw(b"[]", None, &topic)).await);
}

#[tokio::test]
async fn async_value_input_with_nested_output() {
    let topic = topic();
    let rows = run_async("async_value", &raw(BODY, None, &topic)).await;
    assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]));
    let rows = run_async("async_value", &raw(br#"{"user_id":"u0"}"#, None, &topic)).await;
    assert_eq!(rows, Ok(vec![]));
    let error = run_async("async_value", &raw(NEGATIVE, None, &topic))
        .await
        .expect_err("negative age is rejected");
    assert_eq!(error.phase, Phase::Resolver);
    assert_eq!(error.message, "rejected: negative age");
    assert_parse_error(run_async("async_value", &raw(b"nope", None, &topic)).await);
}

#[tokio::test]
async fn async_text_fans_out() {
    let topic = topic();
    let rows = run_async("macro_shapes::async_fan_out", &raw(b"a,b,c", None, &topic)).await;
    assert_eq!(
        rows,
        Ok(vec![
            user_row("a", None, 0),
            user_row("b", None, 0),
            user_row("c", None, 0),
        ])
    );
    assert_parse_error(run_async("macro_shapes::async_fan_out", &raw(&[0xc3], None, &topic)).await);
}

#[tokio::test]
async fn async_message_of_bytes() {
    let topic = topic();
    let rows = run_async("macro_shapes::async_bytes", &raw(b"abcd", None, &topic)).await;
    assert_eq!(rows, Ok(vec![user_row("3", None, 4)]));
}
