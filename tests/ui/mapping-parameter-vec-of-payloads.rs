use chalk_streams::prelude::*;

#[derive(Features)]
struct Sizes {
    #[primary]
    key: String,
    bytes: Option<i64>,
}

static RAW: KafkaSource = KafkaSource::new().topic("raw");

// The raw window input, with `window` forgotten: as JSON, each message would have to be an
// array of arrays of numbers.
#[stream(source = RAW)]
fn sizes(payloads: Vec<Vec<u8>>) -> Option<Sizes> {
    let bytes = i64::try_from(payloads.len()).ok();
    Some(Sizes { key: "all".to_owned(), bytes })
}

fn main() {}
