use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = USER_UPDATES, name = "orders \"eu\"")]
fn users(uid: String) -> User {
    User { uid }
}

fn main() {}
