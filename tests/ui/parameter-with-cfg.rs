use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = USER_UPDATES)]
fn users(#[cfg(any())] uid: String) -> User {
    User {
        uid: String::new(),
    }
}

fn main() {}
