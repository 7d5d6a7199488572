//! Streams and entities that an application's own `macro_rules!` declare, with their types,
//! names and window sizes passed in as fragments.

use super::*;

/// An entity whose field types, `Option<_>` included, come in whole as `$ty` fragments.
macro_rules! entity {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Features)]
        pub struct $name {
            #[primary]
            pub uid: String,
            $(pub $field: $ty),*
        }
    };
}

entity!(Account {
    plan: Option<String>,
    seats: i64,
});

/// An entity whose whole body, `#[primary]` included, comes in as tokens, while the derive is
/// the macro's own: the field accesses the derive writes keep its hygiene, not the types'.
macro_rules! entity_of_tokens {
    ($name:ident { $($body:tt)* }) => {
        #[derive(Features)]
        pub struct $name { $($body)* }
    };
}

entity_of_tokens!(Team {
    #[primary]
    pub id: String,
    pub members: i64,
    pub lead: Option<String>,
});

/// A window stream whose sizes come in as `$w:expr` fragments. Its messages are texts or
/// tombstones.
macro_rules! windowed {
    ($name:ident, $($w:expr),+) => {
        #[stream(source = RAW_EVENTS, window = [$($w),+])]
        fn $name(texts: Vec<Option<String>>) -> Option<Account> {
            let seats = i64::try_from(texts.len()).ok()?;
            let uid = texts
                .into_iter()
                .map(|text| text.unwrap_or_else(|| "-".to_owned()))
                .collect::<Vec<_>>()
                .join(" ");
            Some(Account { uid, plan: None, seats })
        }
    };
}

windowed!(windowed_by_macro, "10m", "1h");

#[test]
fn an_optional_field_given_whole_to_a_macro_is_written_when_set() {
    let time = Timestamp::from_millis(1);
    let row = Account {
        uid: "a".to_owned(),
        plan: Some("pro".to_owned()),
        seats: 3,
    }
    .into_row(time);
    assert_eq!(
        row.values,
        vec![
            ("plan", FeatureValue::String("pro".to_owned())),
            ("seats", FeatureValue::Int(3)),
        ]
    );
    let row = Account {
        uid: "a".to_owned(),
        plan: None,
        seats: 3,
    }
    .into_row(time);
    assert_eq!(row.values, vec![("seats", FeatureValue::Int(3))]);
}

#[test]
fn an_entity_whose_body_a_macro_is_given_as_tokens() {
    let row = Team {
        id: "t1".to_owned(),
        members: 4,
        lead: Some("ada".to_owned()),
    }
    .into_row(Timestamp::from_millis(1));
    assert_eq!(row.primary_key, "t1");
    assert_eq!(
        row.values,
        vec![
            ("members", FeatureValue::Int(4)),
            ("lead", FeatureValue::String("ada".to_owned())),
        ]
    );
}

#[test]
fn window_sizes_given_to_a_macro_as_expressions() {
    let stream = descriptor("macro_shapes::from_macros::windowed_by_macro");
    assert_eq!(stream.windows(), ["10m", "1h"]);
}

/// A window of `Option<String>`: a tombstone is `None`, any other payload its text as it is
/// (JSON would refuse `plain text` as it arrives).
#[tokio::test]
async fn a_window_of_texts_and_tombstones() {
    use chalk_streams::testing::{MessageStatus, StreamTester, TestMessage};

    let mut tester =
        StreamTester::new("macro_shapes::from_macros::windowed_by_macro").expect("declared");
    let now = tester.clock().now().as_millis();
    let start = now - now.rem_euclid(3_600_000);
    tester.clock().set(Timestamp::from_millis(start));
    for message in [TestMessage::bytes("plain text"), TestMessage::tombstone()] {
        let message = message
            .key("k")
            .timestamp(Timestamp::from_millis(start + 1_000));
        assert_eq!(tester.send(message).await, MessageStatus::Windowed);
    }
    let fired = tester.advance(std::time::Duration::from_secs(3_600)).await;
    assert_eq!(fired.len(), 2, "the 10m and 1h windows");
    for window in &fired {
        let rows = window.result.as_ref().expect("resolved");
        assert_eq!(rows[0].primary_key, "plain text -");
    }
}
