use chalk_streams::prelude::*;

#[derive(serde::Deserialize)]
struct Login {
    user: String,
}

#[derive(Features)]
struct Logins {
    #[primary]
    user: String,
}

static LOGINS: KafkaSource = KafkaSource::new().topic("logins");

#[stream(source = LOGINS, window = "0m")]
fn failed_logins(logins: Vec<Login>) -> Option<Logins> {
    logins.into_iter().next().map(|l| Logins { user: l.user })
}

fn main() {}
