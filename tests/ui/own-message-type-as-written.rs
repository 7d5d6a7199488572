use chalk_streams::prelude::*;

static USER_UPDATES: KafkaSource = KafkaSource::new().topic("user_updates");

#[derive(Features)]
struct User {
    #[primary]
    uid: String,
}

mod proto {
    /// A payload type of the application's own, named like the envelope.
    #[derive(serde::Deserialize)]
    pub struct Message<T> {
        pub body: T,
    }

    pub mod users {
        use super::super::*;

        #[stream(source = USER_UPDATES)]
        fn users(message: super::Message<String>) -> User {
            User { uid: message.body }
        }
    }
}

fn main() {}
