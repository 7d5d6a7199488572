use std::rc::Rc;

use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = USER_UPDATES)]
async fn users(uid: Rc<str>) -> User {
    User {
        uid: uid.to_string(),
    }
}

fn main() {}
