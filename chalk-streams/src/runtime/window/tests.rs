//! The window book's rules: alignment, firing, re-firing, expiry and what may be committed.

use super::*;

const MIN: i64 = 60_000;

fn record(offset: i64, key: &str) -> OwnedRecord {
    OwnedRecord {
        offset,
        key: Some(key.as_bytes().to_vec()),
        payload: Some(b"{}".to_vec()),
        timestamp: None,
        headers: Headers::new(),
    }
}

fn ts(minutes: i64) -> Timestamp {
    Timestamp::from_millis(minutes * MIN)
}

/// A book of windows of 10 minutes and of an hour.
fn ten_minutes_and_an_hour(retention_minutes: i64) -> WindowBook {
    WindowBook::new(
        vec![
            WindowSize {
                millis: 10 * MIN,
                label: "10m",
            },
            WindowSize {
                millis: 60 * MIN,
                label: "1h",
            },
        ],
        retention_minutes * MIN,
    )
}

fn book(retention_minutes: i64) -> WindowBook {
    WindowBook::new(
        vec![WindowSize {
            millis: 10 * MIN,
            label: "10m",
        }],
        retention_minutes * MIN,
    )
}

#[test]
fn windows_are_epoch_aligned() {
    assert_eq!(window_end(0, 10), 10);
    assert_eq!(window_end(9, 10), 10);
    assert_eq!(window_end(10, 10), 20);
    assert_eq!(window_end(-1, 10), 0);
}

#[test]
fn a_window_is_due_once_its_end_passes_and_again_after_a_late_message() {
    let mut b = book(30);
    b.insert(record(0, "a"), ts(1), ts(1));
    b.insert(record(1, "a"), ts(2), ts(2));
    b.insert(record(2, "b"), ts(3), ts(3));
    assert!(b.due(ts(9)).is_empty());
    assert_eq!(b.next_due(), Some(ts(10)));
    let due = b.due(ts(10));
    assert_eq!(due.len(), 2, "one window per key");
    for id in &due {
        b.fired(id);
    }
    assert!(b.due(ts(11)).is_empty());
    assert_eq!(b.next_due(), None);
    // Late, within retention: the same window is due again, with all three of its messages.
    b.insert(record(3, "a"), ts(5), ts(12));
    let due = b.due(ts(12));
    assert_eq!(due, vec![(10 * MIN, 0, Some(b"a".to_vec()))]);
    let (records, _, fired_before) = b.window(&due[0]).expect("retained");
    assert!(fired_before);
    let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [0, 1, 3]);
}

/// A millisecond after `minutes`.
fn just_after(minutes: i64) -> Timestamp {
    Timestamp::from_millis(minutes * MIN + 1)
}

/// Late only once its window ended more than the deadline ago, as a mapping stream's message is
/// late only once older than the deadline.
#[test]
fn a_message_is_late_only_once_its_window_ended_more_than_the_deadline_ago() {
    let mut b = book(30);
    assert!(b.accepts(ts(5), ts(39)));
    assert!(b.accepts(ts(5), ts(40)), "ended exactly the deadline ago");
    assert!(!b.accepts(ts(5), just_after(40)));
    b.insert(record(0, "a"), ts(5), ts(40));
    assert_eq!(b.retained(), 1, "kept, to fire");
}

#[test]
fn commits_stop_before_the_first_message_of_a_retained_window() {
    let mut b = book(30);
    assert_eq!(b.commit_position(), None, "nothing read");
    b.pass(0);
    assert_eq!(b.commit_position(), Some(1));
    b.insert(record(1, "a"), ts(1), ts(1));
    b.insert(record(2, "a"), ts(12), ts(12));
    assert_eq!(
        b.commit_position(),
        Some(1),
        "window [0,10) still needs offset 1"
    );
    assert_eq!(b.expire(ts(39)), 0);
    assert_eq!(b.expire(ts(40)), 0, "kept through end 10 + retention 30");
    assert_eq!(b.next_expiry(), Some(just_after(40)));
    assert_eq!(b.expire(just_after(40)), 1, "dropped once more than that");
    assert_eq!(
        b.commit_position(),
        Some(2),
        "window [10,20) needs offset 2"
    );
    assert_eq!(b.expire(just_after(50)), 1);
    assert_eq!(b.commit_position(), Some(3));
    assert_eq!(b.retained(), 0);
}

#[test]
fn a_window_dropped_before_it_fired_is_no_longer_due() {
    let mut b = book(30);
    b.insert(record(0, "a"), ts(1), ts(1));
    b.insert(record(1, "b"), ts(21), ts(21));
    assert_eq!(b.expire(just_after(40)), 1);
    assert_eq!(
        b.due(just_after(40)),
        vec![(30 * MIN, 0, Some(b"b".to_vec()))]
    );
    assert_eq!(b.next_due(), Some(ts(30)));
    assert_eq!(b.expire(just_after(60)), 1);
    assert!(b.due(just_after(60)).is_empty());
    assert_eq!(b.next_due(), None);
    assert_eq!(b.commit_position(), Some(2));
}

#[test]
fn messages_without_a_key_and_with_an_empty_key_have_windows_apart() {
    let mut b = book(30);
    let unkeyed = OwnedRecord {
        key: None,
        ..record(0, "")
    };
    b.insert(unkeyed, ts(1), ts(1));
    b.insert(record(1, ""), ts(2), ts(2));
    assert_eq!(
        b.due(ts(10)),
        vec![(10 * MIN, 0, None), (10 * MIN, 0, Some(Vec::new()))]
    );
}

#[test]
fn several_sizes_hold_a_message_each() {
    let mut b = ten_minutes_and_an_hour(0);
    b.insert(record(0, "k"), ts(15), ts(15));
    assert_eq!(b.ends(), [20 * MIN, 60 * MIN].into_iter().collect());
    assert_eq!(b.due(ts(20)).len(), 1);
    assert_eq!(b.due(ts(60)).len(), 2);
}

#[test]
fn a_window_a_replayed_message_was_late_for_is_withheld_from_firing() {
    let mut b = book(30);
    // Read by the previous owner by minute 3, judged then.
    b.insert(record(0, "a"), ts(1), ts(3));
    b.insert(record(1, "b"), ts(2), ts(3));
    // Past its last commit: judged at this worker's start, late.
    assert!(!b.accepts(ts(4), ts(45)));
    b.lost(ts(4), Some(b"a"), ts(45));
    b.lost(ts(4), Some(b"c"), ts(45));
    b.lost(ts(41), Some(b"b"), ts(45));
    assert_eq!(
        b.withhold_incomplete(),
        1,
        "c has no window kept; b's later one is not late"
    );
    assert_eq!(b.due(ts(45)), vec![(10 * MIN, 0, Some(b"b".to_vec()))]);
    assert_eq!(b.withhold_incomplete(), 0, "withheld once");
    assert_eq!(b.expire(ts(45)), 2, "both dropped after their retention");
}

#[test]
fn a_message_late_for_one_size_withholds_that_window_though_another_size_takes_it() {
    let mut b = ten_minutes_and_an_hour(30);
    b.insert(record(0, "a"), ts(1), ts(3));
    assert!(b.accepts(ts(4), ts(45)), "its hour is kept");
    b.lost(ts(4), Some(b"a"), ts(45));
    b.insert(record(1, "a"), ts(4), ts(45));
    assert_eq!(b.withhold_incomplete(), 1);
    assert_eq!(
        b.due(ts(60)),
        vec![(60 * MIN, 1, Some(b"a".to_vec()))],
        "the hour fires, with both messages; the ten minutes do not"
    );
}
