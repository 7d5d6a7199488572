use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    #[primary(key = "user_id")]
    uid: String,
    favorite_color: Option<String>,
}

fn main() {}
