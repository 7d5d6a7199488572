use chalk_streams::prelude::*;

#[derive(Features)]
union User {
    uid: u64,
    age: i64,
}

fn main() {}
