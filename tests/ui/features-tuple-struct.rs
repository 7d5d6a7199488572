use chalk_streams::prelude::*;

#[derive(Features)]
struct User(#[primary] String, Option<String>);

fn main() {}
