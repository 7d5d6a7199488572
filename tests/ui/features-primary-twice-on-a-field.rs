use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    #[primary]
    #[primary]
    uid: String,
    age: i64,
}

fn main() {}
