use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

struct Resolvers;

impl Resolvers {
    #[stream(source = USER_UPDATES)]
    fn users(&self, uid: String) -> User {
        User { uid }
    }
}

fn main() {}
