use chalk_streams::prelude::*;

static USER_UPDATES: u32 = 7;

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

#[stream(source = USER_UPDATES)]
fn users(uid: String) -> User {
    User { uid }
}

fn main() {}
