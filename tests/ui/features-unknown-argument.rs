use chalk_streams::prelude::*;

#[derive(Features)]
#[features(krate = "chalk_streams")]
struct User {
    #[primary]
    uid: String,
    age: i64,
}

fn main() {}
