use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[stream(source = USER_UPDATES)]
struct Users;

fn main() {}
