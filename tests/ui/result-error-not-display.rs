use chalk_streams::prelude::*;

static EVENTS: KafkaSource = KafkaSource::new().topic("events");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
    age: i64,
}

#[derive(Debug)]
struct Refused;

#[stream(source = EVENTS)]
fn checked(uid: String) -> Result<User, Refused> {
    Ok(User { uid, age: 1 })
}

fn main() {}
