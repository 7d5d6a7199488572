use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = USER_UPDATES)]
fn users(uid: String, key: Vec<u8>) -> User {
    let _ = key;
    User { uid }
}

fn main() {}
