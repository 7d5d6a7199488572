// A warning, made an error here so that the test can show it: `Raw` is `Vec<u8>` under another
// name, in a window stream's input, so payloads would be decoded from JSON rather than taken as
// they are.
#![deny(deprecated)]

use chalk_streams::prelude::*;

static BLOBS: KafkaSource = KafkaSource::new().topic("blobs");

#[derive(Features)]
struct Device {
    #[primary]
    id: String,
    bytes_seen: Option<i64>,
}

type Raw = Vec<u8>;

#[stream(source = BLOBS, window = "10m")]
fn bytes_seen(blobs: Vec<Message<Raw>>) -> Option<Device> {
    let id = String::from_utf8(blobs.first()?.key.clone()?).ok()?;
    let seen = blobs.iter().map(|blob| blob.value.len() as i64).sum();
    Some(Device {
        id,
        bytes_seen: Some(seen),
    })
}

fn main() {}
