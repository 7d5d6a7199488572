use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = USER_UPDATES, nmae = "users")]
fn users(uid: String) -> User {
    User { uid }
}

#[stream(source = USER_UPDATES, topic = "user_updates")]
fn more_users(uid: String) -> User {
    User { uid }
}

#[stream(source = USER_UPDATES, group = "users")]
fn other_users(uid: String) -> User {
    User { uid }
}

fn main() {}
