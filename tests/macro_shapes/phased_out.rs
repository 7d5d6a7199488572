//! A payload type being phased out (see `main.rs`).

use super::*;

#[deprecated(note = "read `UserUpdateBody`")]
#[derive(Deserialize)]
pub struct OldBody {
    user_id: String,
}

#[allow(deprecated)]
#[stream(source = RAW_EVENTS)]
fn from_old_body(body: OldBody) -> User {
    User {
        uid: body.user_id,
        ..User::default()
    }
}
