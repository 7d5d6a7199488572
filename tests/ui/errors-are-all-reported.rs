use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

// Every mistake is reported at once: the typo, the bad name and both signature errors.
#[stream(soruce = USER_UPDATES, name = 7)]
async fn users<T>(uid: String, extra: T) -> User {
    let _ = extra;
    User { uid }
}

fn main() {}
