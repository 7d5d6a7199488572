use chalk_streams::prelude::*;

#[derive(Features)]
#[primary]
struct User {
    #[primary]
    uid: String,
    age: i64,
}

fn main() {}
