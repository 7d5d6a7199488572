use chalk_streams::prelude::*;

#[derive(Features)]
struct User
where
    String: Clone,
{
    #[primary]
    uid: String,
    favorite_color: Option<String>,
}

fn main() {}
