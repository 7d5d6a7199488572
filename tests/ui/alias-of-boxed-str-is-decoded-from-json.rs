// A warning, made an error here so that the test can show it: `Note` is `Box<str>` under another
// name, which the macro cannot see, so payloads would be decoded from JSON rather than taken as
// text.
#![deny(deprecated)]

use chalk_streams::prelude::*;

static NOTES: KafkaSource = KafkaSource::new().topic("notes");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
    last_note: Option<String>,
}

type Note = Box<str>;

#[stream(source = NOTES)]
fn last_note(message: Message<Note>) -> Option<User> {
    let uid = String::from_utf8(message.key?).ok()?;
    Some(User {
        uid,
        last_note: Some(message.value.into()),
    })
}

fn main() {}
