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

/// A window stream whose sizes come in as `$w:expr` fragments.
macro_rules! windowed {
    ($name:ident, $($w:expr),+) => {
        #[stream(source = RAW_EVENTS, window = [$($w),+])]
        fn $name(texts: Vec<String>) -> Option<Account> {
            let seats = i64::try_from(texts.len()).ok()?;
            Some(Account { uid: texts.concat(), plan: None, seats })
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
fn window_sizes_given_to_a_macro_as_expressions() {
    let stream = descriptor("macro_shapes::from_macros::windowed_by_macro");
    assert_eq!(stream.windows(), ["10m", "1h"]);
}
