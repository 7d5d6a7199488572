use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    #[primary]
    uid: Option<String>,
    favorite_color: Option<String>,
}

fn main() {}
