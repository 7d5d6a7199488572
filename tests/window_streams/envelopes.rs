//! What a window resolver sees of each message: its own key, offset, timestamp and headers,
//! for messages that waited in the topic and were taken many at a time.

use super::*;

#[derive(Deserialize)]
struct Ping {
    sequence: i64,
}

#[derive(Features, Default)]
struct PingWindow {
    #[primary]
    key: String,
    envelopes: Option<String>,
}

static PINGS: KafkaSource = KafkaSource::new().topic("pings");

/// Each message as `offset/sequence header/timestamp/payload's sequence`, in offset order.
#[stream(source = PINGS, name = "ping_windows", window = "10m")]
fn ping_windows(pings: Vec<Message<Ping>>) -> Option<PingWindow> {
    let key = pings.first()?.key_str()?.to_owned();
    let mut pings = pings;
    pings.sort_by_key(|ping| ping.offset);
    let envelopes = pings
        .iter()
        .map(|ping| {
            format!(
                "{}/{}/{}/{}",
                ping.offset,
                ping.headers.get_str("sequence").unwrap_or("-"),
                ping.timestamp.map_or(-1, Timestamp::as_millis),
                ping.value.sequence
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    Some(PingWindow {
        key,
        envelopes: Some(envelopes),
    })
}

const KEYS: i64 = 5;
const PINGS_SENT: i64 = 200;

on_both_brokers!(every_message_of_a_window_keeps_its_own_envelope);
async fn every_message_of_a_window_keeps_its_own_envelope(broker: Broker) {
    let t0 = start_of_hour();
    let h = Harness::new(broker, "pings", t0 + 5 * MINUTE).await;
    let records: Vec<Record> = (0..PINGS_SENT)
        .map(|i| {
            Record::json("pings", &json!({ "sequence": i }))
                .key(format!("k{}", i % KEYS))
                .partition(0)
                .timestamp(Timestamp::from_millis(t0 + i))
                .header("sequence", i.to_string())
        })
        .collect();
    h.kafka.produce_all(&records).await.expect("produce");
    let running = h.start(&["ping_windows"]).await;
    let stats = running.stats("ping_windows").expect("stream");
    let total = u64::try_from(PINGS_SENT).expect("positive");
    wait(&stats, "every ping in its window", |s| s.processed == total).await;
    h.set_clock(t0 + 10 * MINUTE);
    let keys = u64::try_from(KEYS).expect("positive");
    wait(&stats, "a window per key fired", |s| {
        s.windows_fired == keys
    })
    .await;

    for key in 0..KEYS {
        // Partition 0 holds every ping, so a ping's offset is its sequence.
        let expected = (0..PINGS_SENT)
            .filter(|i| i % KEYS == key)
            .map(|i| format!("{i}/{i}/{}/{i}", t0 + i))
            .collect::<Vec<_>>()
            .join(",");
        let entity = h
            .store
            .entity("ping_window", &format!("k{key}"))
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("k{key} stored"));
        assert_eq!(
            entity.features["envelopes[10m]"].value,
            FeatureValue::String(expected),
            "k{key}"
        );
    }
    running.shutdown().await.expect("clean shutdown");
}
