//! Resolvers under forbidden lints (see `main.rs`).

use super::*;

#[forbid(unused_imports, non_upper_case_globals)]
#[stream(source = USER_UPDATES)]
fn forbidding(body: UserUpdateBody) -> User {
    user(body)
}

#[stream(source = RAW_EVENTS)]
fn current_text(text: String) -> User {
    User {
        uid: text,
        ..User::default()
    }
}
