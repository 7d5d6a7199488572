use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
    #[primary]
    email: String,
    favorite_color: Option<String>,
}

fn main() {}
