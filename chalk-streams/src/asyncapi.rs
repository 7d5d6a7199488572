//! An AsyncAPI 3.0 document of the declared streams: one channel per topic, one `receive`
//! operation per stream and topic (an operation names one channel), each message with its
//! payload's JSON Schema.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::registry::Registry;
use crate::source::resolve::process_env;

/// The document, for an application called `title`. Only each source's topics and deadline
/// are read (no broker, no credential is needed); a window stream's deadline is shown as
/// `window_retention` caps it (see `Runtime::window_retention`). A stream whose topics are
/// unknown (set neither in code nor in the environment) cannot be described, and its problems
/// are returned instead of a document that would leave it out.
pub fn document(
    registry: &Registry,
    title: &str,
    version: &str,
    window_retention: Duration,
) -> Result<Value, Vec<String>> {
    let mut channels: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut operations = Map::new();
    let mut schemas = Map::new();
    let mut problems = Vec::new();
    // Two names can sanitize alike (`billing::orders`, `billing__orders`): each stream's id is
    // its own, so that neither one's messages, schemas nor operations replace the other's.
    let mut stream_ids = std::collections::BTreeSet::new();
    for descriptor in registry.streams() {
        let name = descriptor.name();
        let stream_id = unique(sanitize(name), |id| stream_ids.contains(id));
        stream_ids.insert(stream_id.clone());
        let message_id = format!("{stream_id}_payload");
        let payload = hoist_definitions(
            descriptor.payload_schema(),
            &format!("{stream_id}_"),
            &mut schemas,
        );
        let message = json!({
            "name": message_id,
            "title": format!("Payload of stream {name}"),
            "contentType": content_type(&payload),
            "payload": payload,
        });
        let mut channel_refs = Vec::new();
        let mut description = format!("Stream resolver `{}`", descriptor.function());
        if !descriptor.windows().is_empty() {
            description.push_str(&format!(
                "; tumbling windows of {}",
                descriptor.windows().join(", ")
            ));
        }
        match descriptor.source().resolve_broker_free(&process_env) {
            Ok(source) => {
                for topic in &source.topics {
                    let channel_id = sanitize(topic);
                    let channel = channels.entry(channel_id.clone()).or_insert_with(|| {
                        let mut channel = Map::new();
                        channel.insert("address".into(), json!(topic));
                        channel.insert("messages".into(), json!({}));
                        channel
                    });
                    if let Some(Value::Object(messages)) = channel.get_mut("messages") {
                        messages.insert(message_id.clone(), message.clone());
                    }
                    channel_refs.push(channel_id);
                }
                description.push_str(&format!(
                    "; consumer group `{}{name}`; late-arrival deadline {}",
                    source.group_id_prefix,
                    source
                        .late_arrival_deadline
                        .as_applied(!descriptor.windows().is_empty(), window_retention)
                ));
            }
            Err(errors) => problems.extend(
                errors
                    .iter()
                    .map(|error| format!("stream `{name}`: {error}")),
            ),
        }
        for channel_id in channel_refs {
            let operation_id = if operations.contains_key(&stream_id) {
                format!("{stream_id}_{channel_id}")
            } else {
                stream_id.clone()
            };
            let operation_id = unique(operation_id, |id| operations.contains_key(id));
            operations.insert(
                operation_id,
                json!({
                    "action": "receive",
                    "title": name,
                    "description": description,
                    "channel": { "$ref": format!("#/channels/{channel_id}") },
                    "messages": [
                        { "$ref": format!("#/channels/{channel_id}/messages/{message_id}") }
                    ],
                }),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut document = json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Kafka stream resolvers declared with chalk-streams.",
        },
        "channels": channels,
        "operations": operations,
    });
    if !schemas.is_empty() {
        document["components"] = json!({ "schemas": schemas });
    }
    Ok(document)
}

/// A payload schema whose types refer to themselves (which no schema can inline) keeps them in
/// `definitions`, and `$ref`s to `#/definitions/...` or to its own root (`#`): in the document
/// those would point into the document itself. They become `components.schemas`, each name
/// behind `prefix`, and the references follow; a self-referring root becomes a component too.
fn hoist_definitions(mut payload: Value, prefix: &str, schemas: &mut Map<String, Value>) -> Value {
    let definitions = payload
        .as_object_mut()
        .and_then(|root| root.remove("definitions").or_else(|| root.remove("$defs")));
    let root_id = format!("{prefix}payload");
    let mut refers_to_root = rewrite_refs(&mut payload, prefix, &root_id);
    if let Some(Value::Object(definitions)) = definitions {
        for (name, mut schema) in definitions {
            refers_to_root |= rewrite_refs(&mut schema, prefix, &root_id);
            schemas.insert(format!("{prefix}{}", sanitize(&name)), schema);
        }
    }
    if refers_to_root {
        schemas.insert(root_id.clone(), payload);
        return json!({ "$ref": format!("#/components/schemas/{root_id}") });
    }
    payload
}

/// Points the schema's `$ref`s at the document's components; returns whether one pointed at
/// the schema's own root.
fn rewrite_refs(schema: &mut Value, prefix: &str, root_id: &str) -> bool {
    match schema {
        Value::Object(object) => {
            let mut to_root = false;
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                let name = reference
                    .strip_prefix("#/definitions/")
                    .or_else(|| reference.strip_prefix("#/$defs/"));
                if let Some(name) = name {
                    // The definitions' keys are names as they are; a reference escapes them.
                    let name = unescape_pointer(name);
                    *reference = format!("#/components/schemas/{prefix}{}", sanitize(&name));
                } else if reference == "#" {
                    *reference = format!("#/components/schemas/{root_id}");
                    to_root = true;
                }
            }
            for value in object.values_mut() {
                to_root |= rewrite_refs(value, prefix, root_id);
            }
            to_root
        }
        Value::Array(items) => items.iter_mut().fold(false, |to_root, item| {
            rewrite_refs(item, prefix, root_id) | to_root
        }),
        _ => false,
    }
}

/// How the payload is written on the wire: raw bytes and text as they are, anything else as
/// JSON (a `String` payload under `application/json` would be a quoted JSON string).
fn content_type(payload: &Value) -> &'static str {
    use crate::schema::{bytes_schema, optional_bytes_schema, optional_text_schema, text_schema};
    if *payload == bytes_schema() || *payload == optional_bytes_schema() {
        "application/octet-stream"
    } else if *payload == text_schema() || *payload == optional_text_schema() {
        "text/plain"
    } else {
        "application/json"
    }
}

/// `id`, or `id_2`, `id_3`, ... the first that `taken` does not hold.
fn unique(id: String, taken: impl Fn(&str) -> bool) -> String {
    if !taken(&id) {
        return id;
    }
    (2..)
        .map(|n| format!("{id}_{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or(id)
}

/// A JSON pointer's segment as written in a URI fragment (`Tree%20Node`, `a~1b`), as the name
/// it points at (`Tree Node`, `a/b`).
fn unescape_pointer(segment: &str) -> String {
    let mut bytes = Vec::with_capacity(segment.len());
    let mut rest = segment.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        let hex = after
            .get(..2)
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                bytes.push(decoded);
                rest = &after[2..];
            }
            _ => {
                bytes.push(byte);
                rest = after;
            }
        }
    }
    String::from_utf8_lossy(&bytes)
        .replace("~1", "/")
        .replace("~0", "~")
}

/// An identifier usable as an AsyncAPI key and in a JSON pointer.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` of `value` names a place in `document`.
    fn assert_refs_resolve(value: &Value, document: &Value) {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("$ref") {
                    let pointer = reference.strip_prefix('#').expect("a local reference");
                    assert!(document.pointer(pointer).is_some(), "{reference} dangles");
                }
                object
                    .values()
                    .for_each(|v| assert_refs_resolve(v, document));
            }
            Value::Array(items) => items.iter().for_each(|v| assert_refs_resolve(v, document)),
            _ => {}
        }
    }

    #[test]
    fn self_referring_payload_types_become_components() {
        // What schemars gives, inlining what it can, for `struct Comment { replies:
        // Vec<Comment>, author: Person }` with `struct Person { friends: Vec<Person> }`.
        let payload = json!({
            "title": "Comment",
            "type": "object",
            "properties": {
                "replies": { "type": "array", "items": { "$ref": "#" } },
                "author": { "$ref": "#/definitions/Person" }
            },
            "definitions": {
                "Person": {
                    "type": "object",
                    "properties": {
                        "friends": { "type": "array", "items": { "$ref": "#/definitions/Person" } }
                    }
                }
            }
        });
        let mut schemas = Map::new();
        let hoisted = hoist_definitions(payload, "comments_", &mut schemas);
        let document = json!({ "payload": hoisted, "components": { "schemas": schemas } });
        assert_eq!(
            document["payload"],
            json!({ "$ref": "#/components/schemas/comments_payload" })
        );
        assert!(document["components"]["schemas"]["comments_payload"]
            .get("definitions")
            .is_none());
        assert_refs_resolve(&document, &document);

        // Names a reference escapes (schemars percent-encodes them) find their definition, and
        // a definition that refers to the root makes the root a component too.
        let payload = json!({
            "type": "object",
            "properties": { "node": { "$ref": "#/definitions/Tree%20Node" } },
            "definitions": {
                "Tree Node": {
                    "type": "object",
                    "properties": {
                        "children": { "type": "array", "items": { "$ref": "#/definitions/Tree%20Node" } },
                        "whole": { "$ref": "#" }
                    }
                }
            }
        });
        let mut schemas = Map::new();
        let hoisted = hoist_definitions(payload, "t_", &mut schemas);
        let document = json!({ "payload": hoisted, "components": { "schemas": schemas } });
        assert!(document["components"]["schemas"]["t_payload"].is_object());
        assert_refs_resolve(&document, &document);
        assert_eq!(unescape_pointer("a~1b~0c%2Fd%zz%+1"), "a/b~c/d%zz%+1");

        // A schema without references stays inline.
        let plain = json!({ "type": "object", "properties": { "id": { "type": "string" } } });
        assert_eq!(
            hoist_definitions(plain.clone(), "p_", &mut Map::new()),
            plain
        );
    }

    static SOURCE: crate::KafkaSource = crate::KafkaSource::new().topic("orders");

    fn never(
        _: &crate::message::RawMessage<'_>,
        _: &mut Vec<crate::FeatureRow>,
    ) -> Result<(), crate::resolver::MessageError> {
        Ok(())
    }

    /// Names that sanitize alike keep ids of their own: neither stream's message, schema nor
    /// operation replaces the other's.
    #[test]
    fn streams_whose_names_sanitize_alike_keep_their_own_ids() {
        use crate::registry::StreamDescriptor;
        use crate::resolver::Resolver;
        static MODULE_PATH: StreamDescriptor = StreamDescriptor::new(
            "billing::orders",
            "billing::orders",
            &SOURCE,
            Resolver::Sync(never),
            "src/billing.rs",
            1,
        );
        static NAMED: StreamDescriptor = StreamDescriptor::new(
            "billing__orders",
            "billing::named",
            &SOURCE,
            Resolver::Sync(never),
            "src/billing.rs",
            9,
        );
        let registry = Registry::from_descriptors(vec![&MODULE_PATH, &NAMED]).expect("registry");
        let document = document(&registry, "t", "1", Duration::from_secs(86_400)).expect("doc");
        let messages = document["channels"]["orders"]["messages"]
            .as_object()
            .expect("messages");
        assert_eq!(messages.len(), 2, "{messages:?}");
        let operations = document["operations"].as_object().expect("operations");
        let titles: Vec<&str> = operations
            .values()
            .map(|o| o["title"].as_str().expect("title"))
            .collect();
        assert_eq!(titles.len(), 2, "{operations:?}");
        assert!(titles.contains(&"billing::orders") && titles.contains(&"billing__orders"));
        for operation in operations.values() {
            let reference = operation["messages"][0]["$ref"].as_str().expect("$ref");
            let message = document
                .pointer(reference.strip_prefix('#').expect("local"))
                .expect("the message exists");
            assert_eq!(
                message["title"],
                format!(
                    "Payload of stream {}",
                    operation["title"].as_str().expect("title")
                )
            );
        }
    }
}
