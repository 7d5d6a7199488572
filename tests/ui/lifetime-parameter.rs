use std::borrow::Cow;

use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = USER_UPDATES)]
fn users<'a>(uid: Cow<'a, str>) -> User {
    User {
        uid: uid.into_owned(),
    }
}

fn main() {}
