// A warning, made an error here so that the test can show it: `MaybeText` is `Option<String>`
// under another name, which the macro cannot see, so payloads would be decoded from JSON rather
// than taken as text (with a tombstone as `None`).
#![deny(deprecated)]

use chalk_streams::prelude::*;

static NOTES: KafkaSource = KafkaSource::new().topic("notes");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
    last_note: Option<String>,
}

type MaybeText = Option<String>;

#[stream(source = NOTES)]
fn last_note(message: Message<MaybeText>) -> Option<User> {
    let uid = String::from_utf8(message.key?).ok()?;
    Some(User {
        uid,
        last_note: message.value,
    })
}

fn main() {}
