//! JSON Schemas of stream payloads, for the AsyncAPI document.
//!
//! A payload type that derives `schemars::JsonSchema` gets its schema; any other gets the empty
//! schema (any JSON). The choice is made at compile time in generated code, by method resolution
//! (the `&&` autoref trick), so deriving `JsonSchema` stays optional.

use std::marker::PhantomData;

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Value};

/// Stands for a payload type in generated code.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Chosen when the payload type implements `JsonSchema`.
pub trait ViaJsonSchema {
    /// The payload's JSON Schema.
    fn payload_schema(&self) -> Value;
}

impl<T: JsonSchema> ViaJsonSchema for Probe<T> {
    fn payload_schema(&self) -> Value {
        let mut settings = SchemaSettings::draft07();
        // Inline everything: `$ref`s would point into the AsyncAPI document, not the schema.
        settings.inline_subschemas = true;
        let mut schema = settings.into_generator().into_root_schema_for::<T>();
        if let Some(object) = schema.as_object_mut() {
            object.remove("$schema");
        }
        schema.to_value()
    }
}

/// Chosen for any other payload type: any JSON.
pub trait ViaAny {
    /// The empty schema.
    fn payload_schema(&self) -> Value;
}

impl<T> ViaAny for &Probe<T> {
    fn payload_schema(&self) -> Value {
        json!({})
    }
}

/// The schema of raw byte payloads.
pub fn bytes_schema() -> Value {
    json!({ "type": "string", "contentEncoding": "binary" })
}

/// The schema of UTF-8 text payloads.
pub fn text_schema() -> Value {
    json!({ "type": "string" })
}

/// The schema of raw byte payloads or tombstones (`Option<Vec<u8>>`): a tombstone has no value.
pub fn optional_bytes_schema() -> Value {
    json!({ "type": ["string", "null"], "contentEncoding": "binary" })
}

/// The schema of UTF-8 text payloads or tombstones (`Option<String>`).
pub fn optional_text_schema() -> Value {
    json!({ "type": ["string", "null"] })
}
