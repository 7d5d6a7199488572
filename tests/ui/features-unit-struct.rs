use chalk_streams::prelude::*;

#[derive(Features)]
struct User;

fn main() {}
