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

#[stream(source = LOGINS, crate = chalk_streams)]
fn login(login: Login) -> Logins {
    Logins { user: login.user }
}

fn main() {}
