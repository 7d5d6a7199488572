use std::rc::Rc;

use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

async fn lookup(uid: &str) -> String {
    uid.to_owned()
}

#[stream(source = USER_UPDATES)]
async fn users(uid: String) -> User {
    let cached = Rc::new(uid);
    let uid = lookup(&cached).await;
    User { uid }
}

fn main() {}
