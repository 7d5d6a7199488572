use chalk_streams::prelude::*;

// The derive recognises an optional feature by how it is written: under another name the
// `Option` is a value type of its own, which no feature can hold.
type Maybe<T> = Option<T>;

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
    age: Maybe<i64>,
}

fn main() {}
