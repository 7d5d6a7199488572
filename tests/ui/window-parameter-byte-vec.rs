use chalk_streams::prelude::*;

#[derive(Features)]
struct Sizes {
    #[primary]
    key: String,
    bytes: Option<i64>,
}

static RAW: KafkaSource = KafkaSource::new().topic("raw");

#[stream(source = RAW, window = "10m")]
fn sizes(payload: Vec<u8>) -> Option<Sizes> {
    let bytes = i64::try_from(payload.len()).ok();
    Some(Sizes { key: "all".to_owned(), bytes })
}

fn main() {}
