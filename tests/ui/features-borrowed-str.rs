use chalk_streams::prelude::*;

#[derive(Features)]
struct User {
    #[primary]
    uid: &'static str,
    favorite_color: Option<&'static str>,
}

fn main() {}
