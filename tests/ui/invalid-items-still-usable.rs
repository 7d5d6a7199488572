use chalk_streams::prelude::*;

// An invalid `#[stream]` still emits its function, and an invalid `#[derive(Features)]` still
// implements `Features`, so the only errors below are the two on the attributes themselves:
// none on the call in `main`, none on `Profile` as a resolver output.

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct Profile {
    uid: String,
}

#[stream(source = USER_UPDATES)]
fn profile(uid: String) -> Profile {
    Profile { uid }
}

#[stream(sources = USER_UPDATES)]
fn users(uid: String) -> Option<Profile> {
    Some(profile(uid))
}

fn main() {
    let _ = users(String::new());
}
