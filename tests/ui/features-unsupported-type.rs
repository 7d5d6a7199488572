use chalk_streams::prelude::*;

struct Color {
    red: u8,
    green: u8,
    blue: u8,
}

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<Color>,
}

fn main() {}
