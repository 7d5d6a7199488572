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

#[stream(source = LOGINS, window = "10m")]
fn failed_logins(login: Message<Login>) -> Logins {
    Logins { user: login.value.user }
}

fn main() {}
