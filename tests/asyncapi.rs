//! The AsyncAPI document of the example applications, validated by the AsyncAPI Initiative's
//! own parser (npm `@asyncapi/parser`, which scripts/setup.sh installs into target/tools).

use std::path::PathBuf;
use std::process::Command;

fn validator_modules() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf();
    let modules = target.join("tools").join("asyncapi").join("node_modules");
    assert!(
        modules.join("@asyncapi").join("parser").exists(),
        "{} missing: run scripts/setup.sh",
        modules.display()
    );
    modules
}

fn document(example: &str) -> serde_json::Value {
    document_with(example, None)
}

/// The document of `example`, run with `CHALK_WINDOW_RETENTION` set to `window_retention`
/// or unset.
fn document_with(example: &str, window_retention: Option<&str>) -> serde_json::Value {
    let mut command = Command::new(suite::example_named(example));
    command
        .arg("asyncapi")
        .env("CHALK_STORE", "memory")
        .env_remove("CHALK_WINDOW_RETENTION");
    if let Some(retention) = window_retention {
        command.env("CHALK_WINDOW_RETENTION", retention);
    }
    let out = command.output().expect("the example runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn validate(document: &serde_json::Value) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("asyncapi.json");
    std::fs::write(&file, document.to_string()).expect("write");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/asyncapi/validate.js");
    let out = Command::new("node")
        .arg(script)
        .arg(&file)
        .env("NODE_PATH", validator_modules())
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_seed_examples_document_is_valid_asyncapi_with_its_payload_schema() {
    let doc = document("favorite_color");
    let (valid, report) = validate(&doc);
    assert!(valid, "{report}");
    assert_eq!(doc["asyncapi"], "3.0.0");
    let channel = &doc["channels"]["user_favorite_color_updates"];
    assert_eq!(channel["address"], "user_favorite_color_updates");
    let payload = &channel["messages"]["favorite_color__favorite_color_payload"]["payload"];
    assert_eq!(payload["properties"]["user_id"]["type"], "string");
    assert_eq!(
        payload["required"],
        serde_json::json!(["user_id", "favorite_color"])
    );
    let operation = &doc["operations"]["favorite_color__favorite_color"];
    assert_eq!(operation["action"], "receive");
    assert_eq!(
        operation["channel"]["$ref"],
        "#/channels/user_favorite_color_updates"
    );
}

#[test]
fn window_and_dead_letter_examples_are_valid_too() {
    for example in ["failed_logins", "orders_dlq"] {
        let doc = document(example);
        let (valid, report) = validate(&doc);
        assert!(valid, "{example}: {report}");
        assert!(
            !doc["operations"]
                .as_object()
                .expect("operations")
                .is_empty(),
            "{example}"
        );
    }
}

/// As in `list`: a window stream keeps a window at most the window retention after its end, so
/// the deadline described is the one that applies.
#[test]
fn a_window_streams_deadline_is_described_as_the_retention_caps_it() {
    let description = |retention: Option<&str>| {
        let doc = document_with("failed_logins", retention);
        let operations = doc["operations"].as_object().expect("operations");
        assert_eq!(operations.len(), 1, "{operations:?}");
        let (_, operation) = operations.iter().next().expect("one operation");
        operation["description"]
            .as_str()
            .expect("a description")
            .to_owned()
    };
    let declared = description(None);
    assert!(declared.ends_with("late-arrival deadline 2h"), "{declared}");
    let capped = description(Some("1h"));
    assert!(
        capped.ends_with("late-arrival deadline 2h (capped at 1h by the window retention)"),
        "{capped}"
    );
}

#[test]
fn the_validator_rejects_a_broken_document() {
    let mut doc = document("favorite_color");
    doc["operations"]["favorite_color__favorite_color"]["action"] = "listen".into();
    let (valid, report) = validate(&doc);
    assert!(!valid, "{report}");
    assert!(
        report.contains("\"action\" property must be equal to one of the allowed values"),
        "{report}"
    );
}

/// A comment and its replies: a payload type that refers to itself, which no schema can
/// inline.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct Comment {
    text: String,
    replies: Vec<Comment>,
    author: Person,
}

#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct Person {
    name: String,
    friends: Vec<Person>,
}

fn comment_schema() -> serde_json::Value {
    use chalk_streams::schema::{Probe, ViaJsonSchema};
    Probe::<Comment>::new().payload_schema()
}

fn never(
    _: &chalk_streams::message::RawMessage<'_>,
    _: &mut Vec<chalk_streams::FeatureRow>,
) -> Result<(), chalk_streams::resolver::MessageError> {
    Ok(())
}

static COMMENTS_SOURCE: chalk_streams::source::KafkaSource =
    chalk_streams::source::KafkaSource::new().topic("comments");
static COMMENTS: chalk_streams::registry::StreamDescriptor =
    chalk_streams::registry::StreamDescriptor::new(
        "comments",
        "app::comments",
        &COMMENTS_SOURCE,
        chalk_streams::resolver::Resolver::Sync(never),
        "src/comments.rs",
        1,
    )
    .with_payload_schema(comment_schema);

#[test]
fn a_payload_type_that_refers_to_itself_gives_a_valid_document() {
    let registry =
        chalk_streams::registry::Registry::from_descriptors(vec![&COMMENTS]).expect("valid");
    let doc = chalk_streams::asyncapi::document(
        &registry,
        "comments",
        "1",
        chalk_streams::runtime::DEFAULT_WINDOW_RETENTION,
    )
    .expect("described");
    let (valid, report) = validate(&doc);
    assert!(valid, "{report}\n{doc:#}");
    assert!(doc["components"]["schemas"]
        .as_object()
        .is_some_and(|schemas| schemas.contains_key("comments_Person")));
}

/// A payload type that derives `JsonSchema` through chalk-streams' own `schemars`, for an
/// application that does not depend on it: described by its schema, not as any JSON.
#[derive(chalk_streams::schemars::JsonSchema)]
#[schemars(crate = "chalk_streams::schemars")]
#[allow(dead_code)]
struct Reading {
    sensor: String,
    celsius: f64,
}

#[test]
fn a_payload_type_deriving_through_the_reexported_schemars_is_described() {
    use chalk_streams::schema::{Probe, ViaJsonSchema};
    let schema = Probe::<Reading>::new().payload_schema();
    assert_eq!(
        schema["properties"]["celsius"]["type"], "number",
        "{schema:#}"
    );
}

static TOMBSTONES_SOURCE: chalk_streams::source::KafkaSource =
    chalk_streams::source::KafkaSource::new().topic("profiles");
static TOMBSTONES: chalk_streams::registry::StreamDescriptor =
    chalk_streams::registry::StreamDescriptor::new(
        "profiles",
        "app::profiles",
        &TOMBSTONES_SOURCE,
        chalk_streams::resolver::Resolver::Sync(never),
        "src/profiles.rs",
        1,
    )
    .with_payload_schema(chalk_streams::schema::optional_text_schema);

/// A stream taking `Option<String>` (tombstones as `None`) is described as text that may be
/// null, and the document is valid.
#[test]
fn a_raw_payload_that_may_be_a_tombstone_is_described_as_nullable_text() {
    let registry =
        chalk_streams::registry::Registry::from_descriptors(vec![&TOMBSTONES]).expect("valid");
    let doc = chalk_streams::asyncapi::document(
        &registry,
        "profiles",
        "1",
        chalk_streams::runtime::DEFAULT_WINDOW_RETENTION,
    )
    .expect("described");
    let (valid, report) = validate(&doc);
    assert!(valid, "{report}\n{doc:#}");
    let message = &doc["channels"]["profiles"]["messages"]["profiles_payload"];
    assert_eq!(message["contentType"], "text/plain", "{doc:#}");
    assert_eq!(
        message["payload"]["type"],
        serde_json::json!(["string", "null"]),
        "{doc:#}"
    );
}
