use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

trait Resolvers {
    #[stream(source = USER_UPDATES)]
    fn users(uid: String) -> User;
}

fn main() {}
