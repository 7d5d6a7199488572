//! The broker-free harness: a declared stream fed by hand, mapping and window, with a clock the
//! test moves and each message's status.

use std::time::Duration;

use chalk_streams::prelude::*;
use chalk_streams::resolver::Phase;
use chalk_streams::testing::{MessageStatus, StreamTester, TestMessage};
use chalk_streams::FeatureValue;
use serde::Deserialize;
use serde_json::json;

mod payloads;
mod store_refusals;

#[derive(Deserialize)]
struct Reading {
    sensor: String,
    celsius: f64,
}

#[derive(Features, Default)]
struct Sensor {
    #[primary]
    id: String,
    celsius: Option<f64>,
    max_celsius: Option<f64>,
}

static READINGS: KafkaSource = KafkaSource::new()
    .topic("readings")
    .late_arrival_deadline_str("1h");

#[stream(source = READINGS, name = "latest_reading")]
fn latest_reading(reading: Message<Reading>) -> Result<Sensor, String> {
    if reading.value.celsius < -273.15 {
        return Err(format!(
            "{} °C is below absolute zero",
            reading.value.celsius
        ));
    }
    Ok(Sensor {
        id: reading.value.sensor,
        celsius: Some(reading.value.celsius),
        ..Default::default()
    })
}

#[stream(source = READINGS, name = "max_reading", window = "5m")]
fn max_reading(readings: Vec<Reading>) -> Option<Sensor> {
    let id = readings.first()?.sensor.clone();
    let max = readings.iter().map(|r| r.celsius).fold(f64::MIN, f64::max);
    Some(Sensor {
        id,
        max_celsius: Some(max),
        ..Default::default()
    })
}

static PROMPT_READINGS: KafkaSource = KafkaSource::new()
    .topic("prompt_readings")
    .late_arrival_deadline_str("0s");

#[stream(source = PROMPT_READINGS, name = "prompt_max", window = "5m")]
fn prompt_max(readings: Vec<Reading>) -> Option<Sensor> {
    max_reading(readings)
}

/// Sets the tester's clock to the start of the current 5-minute window; that start, in ms.
fn at_a_window_start(tester: &StreamTester) -> i64 {
    let now = tester.clock().now().as_millis();
    let start = now - now.rem_euclid(300_000);
    tester.clock().set(Timestamp::from_millis(start));
    start
}

fn reading(sensor: &str, celsius: f64) -> TestMessage {
    TestMessage::json(&json!({"sensor": sensor, "celsius": celsius})).key(sensor)
}

#[tokio::test]
async fn a_mapping_stream_reports_each_message_status() {
    let mut tester = StreamTester::new("latest_reading").expect("declared");
    let now = tester.clock().now();
    match tester.send(reading("s1", 21.5)).await {
        MessageStatus::Processed { rows } => {
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].primary_key, "s1");
            assert_eq!(rows[0].values, [("celsius", FeatureValue::Float(21.5))]);
            assert_eq!(
                rows[0].time, now,
                "the message's timestamp is the feature time"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        tester.send(reading("s1", -300.0)).await,
        MessageStatus::Failed {
            phase: Phase::Resolver,
            error: "-300 °C is below absolute zero".into()
        }
    );
    assert!(matches!(
        tester.send(TestMessage::bytes("not json")).await,
        MessageStatus::Failed {
            phase: Phase::Parse,
            ..
        }
    ));
    let two_hours_ago = Timestamp::from_millis(now.as_millis() - 2 * 3_600_000);
    assert_eq!(
        tester
            .send(reading("s1", 20.0).timestamp(two_hours_ago))
            .await,
        MessageStatus::SkippedLate
    );
    // Stamped more than an hour ahead: refused, as the runtime refuses it.
    let two_hours_ahead = Timestamp::from_millis(now.as_millis() + 2 * 3_600_000);
    let status = tester
        .send(reading("s1", 20.0).timestamp(two_hours_ahead))
        .await;
    assert!(
        matches!(&status, MessageStatus::Failed { phase: Phase::Parse, error }
            if error.contains("ahead of the clock")),
        "{status:?}"
    );
    let mut lenient = StreamTester::new("latest_reading")
        .expect("declared")
        .max_timestamp_lead(Duration::from_secs(3 * 3_600));
    lenient.clock().set(now);
    assert!(matches!(
        lenient
            .send(reading("s1", 20.0).timestamp(two_hours_ahead))
            .await,
        MessageStatus::Processed { .. }
    ));
}

/// A window stream's messages may be stamped ahead of the clock by the runtime's lead (an hour),
/// whatever its deadline: with a deadline of zero, a producer's clock a second fast had every
/// message fail.
#[tokio::test]
async fn a_window_stream_takes_messages_stamped_ahead_up_to_the_lead() {
    let mut tester = StreamTester::new("prompt_max").expect("declared");
    let start = at_a_window_start(&tester);
    let a_second_ahead = Timestamp::from_millis(start + 1_000);
    let status = tester
        .send(reading("s1", 20.0).timestamp(a_second_ahead))
        .await;
    assert_eq!(status, MessageStatus::Windowed);
    let two_hours_ahead = Timestamp::from_millis(start + 2 * 3_600_000);
    let status = tester
        .send(reading("s1", 20.0).timestamp(two_hours_ahead))
        .await;
    assert!(
        matches!(&status, MessageStatus::Failed { phase: Phase::Parse, error }
            if error.contains("more than 1h ahead of the clock")),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_window_stream_fires_on_the_clock_and_again_for_late_messages() {
    let mut tester = StreamTester::new("max_reading").expect("declared");
    let start = at_a_window_start(&tester);
    let at = |seconds: i64| Timestamp::from_millis(start + seconds * 1000);
    for (celsius, second) in [(20.0, 10), (25.0, 20), (22.0, 30)] {
        let status = tester
            .send(reading("s1", celsius).timestamp(at(second)))
            .await;
        assert_eq!(status, MessageStatus::Windowed);
    }
    assert!(tester.advance(Duration::from_secs(299)).await.is_empty());

    let fired = tester.advance(Duration::from_secs(1)).await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].end, at(300));
    assert_eq!(fired[0].size, "5m");
    assert_eq!(fired[0].key.as_deref(), Some(&b"s1"[..]));
    assert!(!fired[0].refire);
    let rows = fired[0].result.as_ref().expect("resolved");
    assert_eq!(
        rows[0].values,
        [("max_celsius[5m]", FeatureValue::Float(25.0))]
    );
    assert_eq!(rows[0].time, at(300));

    // Two minutes late, within the one-hour deadline: the window fires again, corrected.
    tester.send(reading("s1", 30.0).timestamp(at(40))).await;
    let fired = tester.advance(Duration::from_secs(120)).await;
    assert!(fired[0].refire);
    let rows = fired[0].result.as_ref().expect("resolved");
    assert_eq!(
        rows[0].values,
        [("max_celsius[5m]", FeatureValue::Float(30.0))]
    );
}

/// A clock set past a window's end, then a late message for it: as in the runtime, the window
/// fires at its end with what it had, then again with the late message.
#[tokio::test]
async fn a_clock_set_past_a_window_fires_it_before_a_late_message_joins() {
    let mut tester = StreamTester::new("max_reading").expect("declared");
    let start = at_a_window_start(&tester);
    let at = |seconds: i64| Timestamp::from_millis(start + seconds * 1000);
    tester.send(reading("s1", 20.0).timestamp(at(10))).await;
    tester.clock().set(at(360));
    assert_eq!(
        tester.send(reading("s1", 30.0).timestamp(at(20))).await,
        MessageStatus::Windowed
    );
    let fired = tester.fire_due().await;
    let max = |fired: &chalk_streams::testing::FiredWindow| {
        fired.result.as_ref().expect("resolved")[0].values.clone()
    };
    assert_eq!(fired.len(), 2, "{fired:?}");
    assert!(!fired[0].refire);
    assert_eq!(
        max(&fired[0]),
        [("max_celsius[5m]", FeatureValue::Float(20.0))]
    );
    assert!(fired[1].refire);
    assert_eq!(
        max(&fired[1]),
        [("max_celsius[5m]", FeatureValue::Float(30.0))]
    );
    assert!(tester.fire_due().await.is_empty());
}

/// A payload type whose deserializer panics on `"boom"`, as a `deserialize_with` that unwraps
/// does.
struct Touchy(String);

impl<'de> Deserialize<'de> for Touchy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        assert_ne!(text, "boom", "the deserializer panicked");
        Ok(Touchy(text))
    }
}

static TOUCHY: KafkaSource = KafkaSource::new().topic("touchy");

#[stream(source = TOUCHY, name = "touchy_mapping")]
fn touchy_mapping(body: Touchy) -> Sensor {
    Sensor {
        id: body.0,
        ..Default::default()
    }
}

#[stream(source = TOUCHY, name = "touchy_window", window = "5m")]
fn touchy_window(bodies: Vec<Touchy>) -> Option<Sensor> {
    Some(Sensor {
        id: bodies.first()?.0.clone(),
        ..Default::default()
    })
}

/// A panic while decoding is a payload that did not decode: the message fails in phase
/// `parse` (not `resolver`), in mapping and window streams alike, and the next one is taken.
#[tokio::test]
async fn a_panic_while_decoding_fails_the_message_in_phase_parse() {
    for stream in ["touchy_mapping", "touchy_window"] {
        let mut tester = StreamTester::new(stream).expect("declared");
        match tester.send(TestMessage::bytes(r#""boom""#)).await {
            MessageStatus::Failed { phase, error } => {
                assert_eq!(phase, Phase::Parse, "{stream}");
                assert!(
                    error.starts_with("decoding panicked: ")
                        && error.contains("the deserializer panicked"),
                    "{stream}: {error}"
                );
            }
            other => panic!("{stream}: {other:?}"),
        }
        assert!(
            !matches!(
                tester.send(TestMessage::bytes(r#""s1""#)).await,
                MessageStatus::Failed { .. }
            ),
            "{stream}: the next message is taken"
        );
    }
}

/// A source whose password comes from the environment in production: a broker-free test needs
/// no credentials.
static SECURE_READINGS: KafkaSource = KafkaSource::new()
    .name("secure_readings")
    .topic("readings")
    .security_protocol(SecurityProtocol::SaslSsl)
    .sasl_mechanism(SaslMechanism::ScramSha512)
    .sasl_username("sensors");

#[stream(source = SECURE_READINGS, name = "secure_reading")]
fn secure_reading(reading: Reading) -> Sensor {
    Sensor {
        id: reading.sensor,
        celsius: Some(reading.celsius),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_stream_is_tested_without_its_brokers_or_credentials() {
    let mut tester = StreamTester::new("secure_reading").expect("no password is needed");
    assert!(matches!(
        tester.send(reading("s1", 20.0)).await,
        MessageStatus::Processed { .. }
    ));
}

static REGIONAL_READINGS: KafkaSource = KafkaSource::new().topics(&["readings_eu", "readings_us"]);

#[stream(source = REGIONAL_READINGS, name = "regional_reading")]
fn regional_reading(reading: Message<Reading>) -> Sensor {
    Sensor {
        id: format!(
            "{}@{}:{}",
            reading.value.sensor, reading.topic, reading.offset
        ),
        celsius: Some(reading.value.celsius),
        ..Default::default()
    }
}

#[stream(source = REGIONAL_READINGS, name = "regional_max", window = "5m")]
fn regional_max(readings: Vec<Message<Reading>>) -> Option<Sensor> {
    let first = readings.first()?;
    Some(Sensor {
        id: format!("{}@{}", first.value.sensor, first.topic),
        max_celsius: Some(readings.len() as f64),
        ..Default::default()
    })
}

/// A stream on several topics is tested on each: a message names its topic, offsets count per
/// topic and partition, and windows are kept per topic and partition, as in the runtime.
#[tokio::test]
async fn a_stream_on_several_topics_is_fed_on_each() {
    let mut tester = StreamTester::new("regional_reading").expect("declared");
    let ids = |status: MessageStatus| match status {
        MessageStatus::Processed { rows } => rows[0].primary_key.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        ids(tester.send(reading("s1", 20.0)).await),
        "s1@readings_eu:0"
    );
    let us = reading("s1", 20.0).topic("readings_us");
    assert_eq!(ids(tester.send(us.clone()).await), "s1@readings_us:0");
    assert_eq!(ids(tester.send(us).await), "s1@readings_us:1");

    let mut tester = StreamTester::new("regional_max").expect("declared");
    let start = at_a_window_start(&tester);
    let at = Timestamp::from_millis(start + 1_000);
    for topic in ["readings_eu", "readings_us", "readings_us"] {
        let message = reading("s1", 20.0).topic(topic).timestamp(at);
        assert_eq!(tester.send(message).await, MessageStatus::Windowed);
    }
    let fired = tester.advance(Duration::from_secs(300)).await;
    let mut windows: Vec<(String, String, f64)> = fired
        .iter()
        .map(|window| {
            let rows = window.result.as_ref().expect("resolved");
            let Some((_, FeatureValue::Float(count))) = rows[0].values.first() else {
                panic!("{rows:?}");
            };
            (window.topic.clone(), rows[0].primary_key.clone(), *count)
        })
        .collect();
    windows.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        windows,
        [
            ("readings_eu".to_owned(), "s1@readings_eu".to_owned(), 1.0),
            ("readings_us".to_owned(), "s1@readings_us".to_owned(), 2.0),
        ]
    );
}

#[tokio::test]
#[should_panic(expected = "stream `regional_reading` does not read topic `readings_asia`")]
async fn a_message_for_a_topic_the_stream_does_not_read_is_the_tests_mistake() {
    let mut tester = StreamTester::new("regional_reading").expect("declared");
    tester
        .send(reading("s1", 20.0).topic("readings_asia"))
        .await;
}
