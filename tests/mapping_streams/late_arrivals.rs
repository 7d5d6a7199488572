//! Late arrivals: skipped before decoding, and counted.

use std::sync::Arc;

use chalk_streams::prelude::*;
use chalk_streams::store::{FeatureStore, MemoryStore};
use chalk_streams::testing::Record;
use serde_json::json;
use suite::{on_both_brokers, runtime_for, Broker, PATIENCE};

use crate::{Event, EventBody};

pub(crate) static LATE_SOURCE: KafkaSource = KafkaSource::new()
    .topic("late_events")
    .late_arrival_deadline_str("1h");
static ALL_SOURCE: KafkaSource = KafkaSource::new().topic("late_events");

#[stream(source = LATE_SOURCE)]
fn within_deadline(event: EventBody) -> Event {
    Event {
        id: event.id,
        seen_within_deadline: Some(true),
        ..Default::default()
    }
}

#[stream(source = ALL_SOURCE, name = "infinite_deadline")]
fn infinite_deadline(event: EventBody) -> Event {
    Event {
        id: event.id,
        seen_always: Some(true),
        ..Default::default()
    }
}

on_both_brokers!(late_messages_are_skipped_before_decoding_and_counted);
async fn late_messages_are_skipped_before_decoding_and_counted(broker: Broker) {
    let kafka = broker.with_topics(&["late_events"], 2).await;
    let now = Timestamp::now().as_millis();
    let minutes = |m: i64| Timestamp::from_millis(now - m * 60_000);
    let records = [
        ("fresh", minutes(0)),
        ("half_hour_old", minutes(30)),
        ("two_hours_old", minutes(120)),
        ("a_day_old", minutes(24 * 60)),
        // As far back as a producer can set it: no deadline but infinity lets it in, and working
        // out its latency (from that time to now) must not overflow.
        ("long_ago", Timestamp::from_millis(i64::MIN)),
    ];
    for (id, ts) in records {
        kafka
            .produce(&Record::json("late_events", &json!({"id": id})).timestamp(ts))
            .await
            .expect("produce");
    }
    // Too late *and* not JSON: it must be skipped, not failed, proving the check runs first.
    kafka
        .produce(&Record::bytes("late_events", "not json").timestamp(minutes(90)))
        .await
        .expect("produce");

    let store = Arc::new(MemoryStore::new());
    let running = runtime_for(
        &kafka,
        &[
            "mapping_streams::late_arrivals::within_deadline",
            "infinite_deadline",
        ],
    )
    .store(store.clone())
    .start()
    .await
    .expect("runtime starts");

    let bounded = running
        .stats("mapping_streams::late_arrivals::within_deadline")
        .expect("stream");
    let (s, done) = bounded.wait_for(PATIENCE, |s| s.handled() == 6).await;
    assert!(done, "{s:?}");
    assert_eq!((s.processed, s.skipped_late, s.failed), (2, 4, 0));

    let unbounded = running.stats("infinite_deadline").expect("stream");
    let (s, done) = unbounded.wait_for(PATIENCE, |s| s.handled() == 6).await;
    assert!(done, "{s:?}");
    assert_eq!(
        (s.processed, s.skipped_late, s.failed),
        (5, 0, 1),
        "infinity skips nothing; the non-JSON one fails to parse"
    );
    running.shutdown().await.expect("clean shutdown");

    for (id, within) in [
        ("fresh", true),
        ("half_hour_old", true),
        ("two_hours_old", false),
        ("a_day_old", false),
        ("long_ago", false),
    ] {
        let event = store
            .entity("event", id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(
            event.features.contains_key("seen_within_deadline"),
            within,
            "{id}"
        );
        assert!(event.features.contains_key("seen_always"), "{id}");
    }
}
