use chalk_streams::prelude::*;

#[derive(serde::Deserialize)]
struct Login {
    user: String,
}

#[derive(Features)]
struct Logins {
    #[primary]
    user: String,
    attempts: Option<i64>,
}

static LOGINS: KafkaSource = KafkaSource::new().topic("logins");

// Only the arguments' error: the window input is not also taken for a mapping stream's.
#[stream(source = LOGINS, window = [])]
fn failed_logins(logins: Vec<Message<Login>>) -> Option<Logins> {
    let attempts = i64::try_from(logins.len()).ok();
    logins.into_iter().next().map(|l| Logins { user: l.value.user, attempts })
}

fn main() {}
