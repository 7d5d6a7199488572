//! An AsyncAPI 3.0 document of the declared streams: one channel per topic, one `receive`
//! operation per stream and topic (an operation names one channel), each message with its
//! payload's JSON Schema.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::registry::Registry;
use crate::source::resolve::process_env;

/// The document, for an application called `title`. Only each source's topics and deadline
/// are read (no broker, no credential is needed); a stream whose topics are unknown (set
/// neither in code nor in the environment) cannot be described, and its problems are
/// returned instead of a document that would leave it out.
pub fn document(registry: &Registry, title: &str, version: &str) -> Result<Value, Vec<String>> {
    let mut channels: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut operations = Map::new();
    let mut problems = Vec::new();
    for descriptor in registry.streams() {
        let name = descriptor.name();
        let message_id = format!("{}_payload", sanitize(name));
        let payload = descriptor.payload_schema();
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
                    source.group_id_prefix, source.late_arrival_deadline
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
    Ok(json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Kafka stream resolvers declared with chalk-streams.",
        },
        "channels": channels,
        "operations": operations,
    }))
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
