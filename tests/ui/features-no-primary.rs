use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    uid: String,
    favorite_color: Option<String>,
}

fn main() {}
