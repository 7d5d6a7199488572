use chalk_streams::prelude::*;

#[derive(Features)]
enum User {
    Active { uid: String },
    Deleted { uid: String },
}

fn main() {}
