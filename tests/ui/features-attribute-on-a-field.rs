use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
    #[features(skip)]
    scratch: Option<i64>,
    favorite_color: Option<String>,
}

fn main() {}
