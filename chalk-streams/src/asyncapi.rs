//! An AsyncAPI 3.0 document of the declared streams: one channel per topic, one `receive`
//! operation per stream and topic (an operation names one channel), each message with its
//! payload's JSON Schema.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::registry::Registry;
use crate::source::resolve::{process_env, Overrides};

/// The document, for an application called `title`. A stream whose source does not resolve
/// (e.g. no topic) is listed without channels, with its problem in its description.
pub fn document(registry: &Registry, title: &str, version: &str) -> Value {
    // Only topics matter here: the brokers are never contacted.
    let overrides = Overrides {
        bootstrap_servers: Some("localhost:9092".into()),
    };
    let mut channels: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut operations = Map::new();
    for descriptor in registry.streams() {
        let name = descriptor.name();
        let message_id = format!("{}_payload", sanitize(name));
        let message = json!({
            "name": message_id,
            "title": format!("Payload of stream {name}"),
            "contentType": "application/json",
            "payload": descriptor.payload_schema(),
        });
        let mut channel_refs = Vec::new();
        let mut description = format!("Stream resolver `{}`", descriptor.function());
        if !descriptor.windows().is_empty() {
            description.push_str(&format!(
                "; tumbling windows of {}",
                descriptor.windows().join(", ")
            ));
        }
        match descriptor.source().resolve(&process_env, &overrides) {
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
                    "; consumer group `{}`; late-arrival deadline {}",
                    source.group_id(name),
                    source.late_arrival_deadline
                ));
            }
            Err(problems) => {
                let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                description.push_str(&format!("; source unresolved: {}", problems.join("; ")));
            }
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
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Kafka stream resolvers declared with chalk-streams.",
        },
        "channels": channels,
        "operations": operations,
    })
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
