use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: u64,
}

#[stream(source = USER_UPDATES)]
extern "C" fn users(uid: u64) -> User {
    User { uid }
}

fn main() {}
