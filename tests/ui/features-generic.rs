use chalk_streams::prelude::*;

#[derive(Features)]
struct User<T> {
    #[primary]
    uid: String,
    favorite_color: T,
}

fn main() {}
