use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

struct UserUpdateBody {
    user_id: String,
}

#[stream(source = USER_UPDATES)]
fn users(message: Message<UserUpdateBody>) -> User {
    User {
        uid: message.value.user_id,
    }
}

fn main() {}
