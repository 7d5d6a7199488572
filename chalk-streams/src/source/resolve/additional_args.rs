//! `additional_kafka_args`: from code or a JSON object in the environment, each key translated
//! from its Java name where it differs, and each checked against what chalk-streams manages
//! and what librdkafka takes.

use super::{Resolver, SourceError};
use crate::source::property_names::{librdkafka_refuses, translate_additional_arg};

pub(super) fn resolve_additional_args(r: &mut Resolver<'_>) -> Vec<(String, String)> {
    let raw: Vec<(String, String)> = match r.source.additional_kafka_args {
        Some(args) => args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        None => match r.lookup("additional_kafka_args") {
            None => Vec::new(),
            Some((var, json)) => match parse_args_json(&json) {
                Ok(args) => args,
                Err(e) => {
                    r.errors.push(SourceError::new(
                        "additional_kafka_args",
                        format!("{var} is not a JSON object of scalar values: {e}"),
                        format!("set {var} to e.g. {{\"fetch.min.bytes\": 1024}}"),
                    ));
                    Vec::new()
                }
            },
        },
    };
    let mut translated = Vec::with_capacity(raw.len());
    for (key, value) in raw {
        match translate_additional_arg(&key, value) {
            Ok((name, value)) => match librdkafka_refuses(name, &value) {
                None => translated.push((name.to_owned(), value)),
                Some(problem) => r.errors.push(SourceError::new(
                    "additional_kafka_args",
                    problem,
                    "give a property of librdkafka's CONFIGURATION.md (or its Java client's \
                     name), with a value of its form",
                )),
            },
            Err(fix) => r.errors.push(SourceError::new(
                "additional_kafka_args",
                format!("key `{key}` cannot be used"),
                fix,
            )),
        }
    }
    translated
}

fn parse_args_json(json: &str) -> Result<Vec<(String, String)>, String> {
    // Read as any JSON first: serde_json's syntax errors say where, not what, but its error
    // for a value of the wrong type quotes the value, which may hold a secret.
    let map = match serde_json::from_str(json).map_err(|e| e.to_string())? {
        serde_json::Value::Object(map) => map,
        serde_json::Value::String(_) => {
            return Err("it is a JSON string, not an object (is it encoded twice?)".to_owned());
        }
        other => return Err(format!("it is {}, not an object", json_kind(&other))),
    };
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            serde_json::Value::Number(n) => Ok((k, n.to_string())),
            serde_json::Value::Bool(b) => Ok((k, b.to_string())),
            // The value is not repeated: it may be a secret's.
            other => Err(format!(
                "the value of `{k}` is {}, not a string, number or boolean",
                json_kind(&other)
            )),
        })
        .collect()
}

/// What kind of JSON value `value` is, without its content.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_that_is_not_an_object_is_named_by_its_kind_not_shown() {
        let twice = serde_json::to_string(r#"{"ssl.key.password": "s3cr3t"}"#).expect("json");
        let error = parse_args_json(&twice).expect_err("a string");
        assert_eq!(
            error,
            "it is a JSON string, not an object (is it encoded twice?)"
        );
        let error = parse_args_json(r#"["s3cr3t"]"#).expect_err("an array");
        assert_eq!(error, "it is an array, not an object");
        let error = parse_args_json(r#"{"sasl.password": "s3cr3t""#).expect_err("cut short");
        assert!(!error.contains("s3cr3t"), "{error}");
    }

    #[test]
    fn a_value_that_is_not_a_scalar_is_named_by_its_kind_not_shown() {
        let error = parse_args_json(r#"{"sasl.oauthbearer.client.secret": {"v": "s3cr3t"}}"#)
            .expect_err("an object");
        assert_eq!(
            error,
            "the value of `sasl.oauthbearer.client.secret` is an object, not a string, number or \
             boolean"
        );
        let error = parse_args_json(r#"{"ssl.key.password": ["s3cr3t"]}"#).expect_err("an array");
        assert!(
            error.contains("is an array") && !error.contains("s3cr3t"),
            "{error}"
        );
    }
}
