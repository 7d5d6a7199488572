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
    for descriptor in registry.streams() {
        let name = descriptor.name();
        let message_id = format!("{}_payload", sanitize(name));
        let payload = hoist_definitions(
            descriptor.payload_schema(),
            &format!("{}_", sanitize(name)),
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
            let operation_id = if operations.contains_key(&sanitize(name)) {
                format!("{}_{channel_id}", sanitize(name))
            } else {
                sanitize(name)
            };
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
    let refers_to_root = rewrite_refs(&mut payload, prefix, &root_id);
    if let Some(Value::Object(definitions)) = definitions {
        for (name, mut schema) in definitions {
            rewrite_refs(&mut schema, prefix, &root_id);
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
                    *reference = format!("#/components/schemas/{prefix}{}", sanitize(name));
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
    if *payload == crate::schema::bytes_schema() {
        "application/octet-stream"
    } else if *payload == crate::schema::text_schema() {
        "text/plain"
    } else {
        "application/json"
    }
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

        // A schema without references stays inline.
        let plain = json!({ "type": "object", "properties": { "id": { "type": "string" } } });
        assert_eq!(
            hoist_definitions(plain.clone(), "p_", &mut Map::new()),
            plain
        );
    }
}
