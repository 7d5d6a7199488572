//! Payload shapes through the tester: a window of boxed text, and a tombstone for an `Option`.

use super::*;

#[stream(source = READINGS, name = "notes_window", window = "5m")]
fn notes_window(notes: Vec<Message<Box<str>>>) -> Option<Sensor> {
    let first = notes.first()?;
    Some(Sensor {
        id: format!(
            "{}: {}",
            first.key_str()?,
            notes
                .iter()
                .map(|n| &*n.value)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ..Default::default()
    })
}

/// A window of text payloads in another owning type than `String` takes them as text.
#[tokio::test]
async fn a_window_of_text_in_boxes() {
    let mut tester = StreamTester::new("notes_window").expect("declared");
    let start = at_a_window_start(&tester);
    for note in ["call", "back"] {
        let message = TestMessage::bytes(note)
            .key("s1")
            .timestamp(Timestamp::from_millis(start + 1_000));
        assert_eq!(tester.send(message).await, MessageStatus::Windowed);
    }
    let fired = tester.advance(Duration::from_secs(300)).await;
    let rows = fired[0].result.as_ref().expect("resolved");
    assert_eq!(rows[0].primary_key, "s1: call back");
}

#[stream(source = READINGS, name = "forgotten_sensor")]
fn forgotten_sensor(reading: Message<Option<Reading>>) -> Option<Sensor> {
    match reading.value {
        Some(_) => None,
        // A tombstone: the sensor is gone.
        None => Some(Sensor {
            id: reading.key_str()?.to_owned(),
            ..Default::default()
        }),
    }
}

/// A tombstone reaches an `Option<T>` resolver as `None`, and fails any other in phase `parse`.
#[tokio::test]
async fn a_tombstone_is_none_for_an_option_and_a_parse_failure_otherwise() {
    let mut tester = StreamTester::new("forgotten_sensor").expect("declared");
    match tester.send(TestMessage::tombstone().key("s9")).await {
        MessageStatus::Processed { rows } => assert_eq!(rows[0].primary_key, "s9"),
        other => panic!("{other:?}"),
    }
    let mut tester = StreamTester::new("latest_reading").expect("declared");
    assert!(matches!(
        tester.send(TestMessage::tombstone().key("s9")).await,
        MessageStatus::Failed {
            phase: Phase::Parse,
            ..
        }
    ));
}
