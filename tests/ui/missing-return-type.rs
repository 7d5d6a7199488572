use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[stream(source = USER_UPDATES)]
fn log_users(payload: String) {
    println!("{payload}");
}

fn main() {}
