use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

mod bodies {
    pub struct UserUpdateBody {
        pub user_id: String,
    }
}

#[stream(source = USER_UPDATES)]
async fn users(body: bodies::UserUpdateBody) -> Option<User> {
    Some(User { uid: body.user_id })
}

fn main() {}
