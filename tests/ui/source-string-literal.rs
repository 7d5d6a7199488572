use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = "user_updates")]
fn users(uid: String) -> User {
    User { uid }
}

fn main() {}
