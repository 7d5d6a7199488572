//! Implementation detail of the `chalk-streams` crate: the `#[stream]` attribute and
//! `#[derive(Features)]`. Use them through `chalk_streams` (or its prelude), never directly.
//!
//! Each macro is split into parse (`attr`), validate (`validate`) and expand (`expand`) steps.
//! Every mistake found is reported with a span on the offending tokens, all at once; on error
//! the user's item is still emitted so the rest of the crate keeps compiling.

mod errors;
mod features;
mod root;
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
/// - `crate = "path"` (optional): where chalk-streams is, for an application that depends on it
///   under another name or through a crate that re-exports it. Defaults to `::chalk_streams`.
/// - `window = "10m"` or `window = ["10m", "1h"]` (optional): makes it a window stream, run once
///   per key and tumbling window of each size. Each size is a Chalk duration, longer than zero,
///   and no two sizes are the same duration; both are checked at compile time.
/// - `timeout = "5s"` (optional, `async fn` only): how long the resolver may take on one message
///   (on one window, for a window stream). Past it, the resolver's future is dropped and the
///   message fails in phase `resolver` (dead-lettered if the source has a topic for it), or the
///   window keeps its previous output; the partition goes on. A Chalk duration longer than zero,
///   checked at compile time. Without it, a resolver that never finishes holds its partition.
///   The limit is per message, and a partition's messages run one after another: n messages
///   that hang cost n times the limit (longer than a rebalance's drain timeout, their batch is
///   read again by the next owner). Only awaiting is interrupted: blocking code inside the
///   `async fn` is not, and tasks it spawned keep running.
///
/// # The function
///
/// A plain or `async` non-generic free function with exactly one parameter, not under a
/// `#[cfg]` of its own (put one on the function instead). (The attribute
/// cannot see that it is in an `impl` block: there, rustc reports "`const` items in this
/// context need a name" at the attribute; move the function out of the block.)
///
/// - `Message<T>` receives the decoded payload with its envelope (key, partition, offset,
///   timestamp, headers); any other type `T` receives just the decoded payload. The envelope is
///   recognised by how it is written, `Message<T>`, `chalk_streams::Message<T>`,
///   `prelude::Message<T>` or `crate::Message<T>` (through `self::` and `super::` too):
///   another path ending in `Message` (`proto::Message<T>`) is a payload type decoded from JSON.
/// - `T = Vec<u8>` takes the raw bytes, `T = String` the payload as UTF-8 text (so do
///   `Box<[u8]>`, `Arc<[u8]>`, `Rc<[u8]>`, `Cow<[u8]>`, and `Box<str>`, `Arc<str>`, `Rc<str>`,
///   `Cow<str>`), `Option` of one of those is `None` for a tombstone and the payload as it is
///   otherwise, and any other `T` is decoded from JSON and must implement
///   `serde::Deserialize`. These too are recognised as written: a type alias of `Vec<u8>` or
///   `String` is decoded from JSON, with a deprecation warning at the alias that says so.
/// - A window stream's function takes every message of one key in one window, in offset order:
///   `Vec<Message<T>>` or `Vec<T>`.
///
/// It returns a `#[derive(Features)]` type, or an `Option`, `Vec` or `Result<_, E: Display>` of
/// one: `None` writes nothing, a `Vec` writes one row per element, and `Err` fails the message
/// (in a window stream, the window: it keeps its previous output).
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
/// - `#[features(crate = "path")]` on the struct says where chalk-streams is, for an application
///   that depends on it under another name or through a crate that re-exports it.
#[proc_macro_derive(Features, attributes(primary, features))]
pub fn derive_features(input: TokenStream) -> TokenStream {
    features::derive(input.into()).into()
}
