use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[stream(source = USER_UPDATES)]
fn user_count(payload: String) -> u32 {
    payload.len() as u32
}

fn main() {}
