use chalk_streams::prelude::*;

#[derive(Features)]
#[features(crate = "chalk_streams")]
#[features(crate = "chalk_streams")]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<String>,
}

fn main() {}
