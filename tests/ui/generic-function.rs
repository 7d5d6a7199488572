use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = USER_UPDATES)]
fn users<T: Into<String>>(uid: T) -> User {
    User { uid: uid.into() }
}

fn main() {}
