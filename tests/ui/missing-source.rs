use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(name = "users")]
fn users(uid: String) -> User {
    User { uid }
}

fn main() {}
