//! Implementation detail of the `chalk-streams` crate: the `#[stream]` attribute and
//! `#[derive(Features)]`. Use them through `chalk_streams` (or its prelude), never directly.
//!
//! Each macro is split into parse (`attr`), validate (`validate`) and expand (`expand`) steps.
//! Every mistake found is reported with a span on the offending tokens, all at once; on error
//! the user's item is still emitted so the rest of the crate keeps compiling.

mod errors;
mod features;
mod stream;
mod ty;

use proc_macro::TokenStream;

/// Declares a stream resolver: a function that maps one Kafka message to features.
///
/// ```text
/// use chalk_streams::prelude::*;
///
/// static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_favorite_color_updates");
///
/// #[derive(serde::Deserialize)]
/// struct UserUpdateBody { user_id: String, favorite_color: String }
///
/// #[derive(Features)]
/// struct User { #[primary] uid: String, favorite_color: Option<String> }
///
/// #[stream(source = USER_UPDATES)]
/// fn favorite_color(message: Message<UserUpdateBody>) -> User {
///     User { uid: message.value.user_id, favorite_color: Some(message.value.favorite_color) }
/// }
/// ```
///
/// # Arguments
///
/// - `source = PATH` (required): the `static` `KafkaSource` the stream consumes.
/// - `name = "..."` (optional): the stream's name, which is also its consumer group suffix.
///   Defaults to the function's path, `module::function`.
///
/// # The function
///
/// A plain or `async` non-generic function with exactly one parameter:
///
/// - `Message<T>` receives the decoded payload with its envelope (key, partition, offset,
///   timestamp, headers); any other type `T` receives just the decoded payload.
/// - `T = Vec<u8>` takes the raw bytes, `T = String` the payload as UTF-8 text, and any other
///   `T` is decoded from JSON and must implement `serde::Deserialize`.
///
/// It returns a `#[derive(Features)]` type, or an `Option`, `Vec` or `Result<_, E: Display>` of
/// one: `None` writes nothing, a `Vec` writes one row per element, and `Err` fails the message.
///
/// The function is kept as written; the attribute adds a registration that the runtime finds
/// through `chalk_streams::registry::Registry::collect()`.
#[proc_macro_attribute]
pub fn stream(args: TokenStream, item: TokenStream) -> TokenStream {
    stream::expand(args.into(), item.into()).into()
}

/// Implements `chalk_streams::Features` for a struct with named fields.
///
/// ```text
/// #[derive(Features)]
/// struct UserProfile {
///     #[primary]
///     uid: String,
///     favorite_color: Option<String>,
///     age: i64,
/// }
/// ```
///
/// - The namespace is the struct's name in snake case (`UserProfile` → `user_profile`).
/// - Exactly one field carries `#[primary]`: the entity's key, a `String` or an integer.
/// - Every other field is a feature named after the field. An `Option` field is written only
///   when it is `Some`; other fields are always written.
/// - Feature types are those implementing both `IntoFeatureValue` (to write) and
///   `FromFeatureValue` (to read back): `bool`, integers, floats, `String`, `Timestamp`,
///   `SystemTime`, `serde_json::Value` and `Vec`s of them.
/// - `Features::from_features` rebuilds the struct from what a store holds: an absent `Option`
///   feature is `None`, an absent other feature is an error.
#[proc_macro_derive(Features, attributes(primary))]
pub fn derive_features(input: TokenStream) -> TokenStream {
    features::derive(input.into()).into()
}
