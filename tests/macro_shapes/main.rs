//! Every accepted `#[stream]` shape and `#[derive(Features)]` expansion, exercised through the
//! registry without a Kafka cluster: each resolver is called on a hand-built `RawMessage`.

use std::fmt;
use std::sync::Arc;

use chalk_streams::__private::RawMessage;
use chalk_streams::message::RawHeaders;
use chalk_streams::output::StreamEntity;
use chalk_streams::prelude::*;
use chalk_streams::registry::{Registry, StreamDescriptor};
use chalk_streams::resolver::{MessageError, Phase, Resolver};
use chalk_streams::{FeatureRow, FeatureValue};
use serde::Deserialize;
use support::*;

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

/// Text and bytes in the other owning types made from `String` and `Vec<u8>`.
#[stream(source = RAW_EVENTS)]
fn boxed_text(text: Box<str>) -> User {
    User {
        uid: String::from(text).to_uppercase(),
        ..User::default()
    }
}

#[stream(source = RAW_EVENTS)]
fn keyed_cow_text(message: Message<std::borrow::Cow<'static, str>>) -> User {
    User {
        uid: message.value.into_owned(),
        ..User::default()
    }
}

#[stream(source = RAW_EVENTS)]
fn cow_text(text: std::borrow::Cow<str>) -> User {
    User {
        uid: text.into_owned(),
        ..User::default()
    }
}

#[stream(source = RAW_EVENTS)]
fn rc_bytes(payload: std::rc::Rc<[u8]>) -> User {
    User {
        uid: format!("len-{}", payload.len()),
        ..User::default()
    }
}

#[stream(source = RAW_EVENTS)]
async fn async_cow_text(text: std::borrow::Cow<'_, str>) -> User {
    User {
        uid: text.to_uppercase(),
        ..User::default()
    }
}

#[stream(source = RAW_EVENTS)]
fn shared_bytes(payload: Arc<[u8]>) -> User {
    User {
        uid: format!("len-{}", payload.len()),
        ..User::default()
    }
}

/// `Option` of a text or bytes type: `None` for a tombstone, the payload as it is otherwise.
#[stream(source = RAW_EVENTS)]
fn text_or_tombstone(text: Option<String>) -> User {
    User {
        uid: text.unwrap_or_else(|| "tombstone".to_owned()),
        ..User::default()
    }
}

#[stream(source = RAW_EVENTS)]
fn bytes_or_tombstone(message: Message<Option<Box<[u8]>>>) -> User {
    User {
        uid: message
            .value
            .map_or_else(|| "tombstone".to_owned(), |b| format!("len-{}", b.len())),
        ..User::default()
    }
}

/// A stream being phased out: declaring it does not make every build warn.
#[deprecated(note = "replaced by `text`")]
#[stream(source = RAW_EVENTS)]
fn old_text(text: String) -> User {
    User {
        uid: text,
        ..User::default()
    }
}

/// A payload type being phased out, in a module that denies using it: a resolver allowed to
/// take it is allowed to in its registration too, which names the type again.
#[deny(deprecated)]
mod phased_out;

/// A crate or module that forbids `deprecated` (a lint level no `allow` may lower) still takes
/// resolvers that are not deprecated, and a resolver may forbid lints of its own.
#[forbid(deprecated)]
mod strict;

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

/// An application's own prelude, re-exporting chalk-streams': its `Message` is the envelope.
pub mod prelude {
    pub use chalk_streams::prelude::*;
}

// Resolvers whose names the generated code must not shadow, and a payload type of the user's own
// that is also called `Message`.
mod names {
    use super::*;

    pub mod proto {
        /// Not chalk-streams' envelope: a payload decoded from JSON like any other.
        #[derive(serde::Deserialize)]
        pub struct Message<T> {
            pub body: T,
        }

        /// A prelude of the user's own, with its own `Message`.
        pub mod prelude {
            pub use super::Message;
        }
    }

    #[stream(source = USER_UPDATES)]
    fn raw(body: UserUpdateBody) -> User {
        user(body)
    }

    #[stream(source = USER_UPDATES)]
    fn rows(body: UserUpdateBody) -> Vec<User> {
        vec![user(body)]
    }

    #[stream(source = USER_UPDATES)]
    fn from_proto(message: proto::Message<UserUpdateBody>) -> User {
        user(message.body)
    }

    #[stream(source = USER_UPDATES)]
    fn from_proto_prelude(message: proto::prelude::Message<UserUpdateBody>) -> User {
        user(message.body)
    }

    #[stream(source = USER_UPDATES)]
    fn from_own_prelude(message: crate::prelude::Message<UserUpdateBody>) -> User {
        user(message.value)
    }

    // `Message` imported at the crate's root, named from there.
    #[stream(source = USER_UPDATES)]
    fn from_crate_root(message: crate::Message<UserUpdateBody>) -> User {
        user(message.value)
    }
}

// An application that reaches chalk-streams through a crate re-exporting it.
mod platform {
    pub use chalk_streams as streams;
}

mod through_a_reexport {
    use super::*;

    #[derive(Features)]
    #[features(crate = "crate::platform::streams")]
    pub struct Member {
        #[primary]
        uid: String,
        age: i64,
    }

    #[stream(source = USER_UPDATES, crate = "crate::platform::streams")]
    fn member(body: UserUpdateBody) -> Member {
        Member {
            uid: body.user_id,
            age: body.age,
        }
    }

    // The envelope named through the same path.
    #[stream(source = USER_UPDATES, crate = "crate::platform::streams")]
    fn member_envelope(message: crate::platform::streams::Message<UserUpdateBody>) -> Member {
        member(message.value)
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

mod async_shapes;
mod derive;
mod from_macros;
mod registry;
mod support;
mod sync_shapes;
