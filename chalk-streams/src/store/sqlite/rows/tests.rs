//! Writing rows: repeats in one transaction, and values passed over.

use super::*;

fn row(key: &str, color: &str, millis: i64) -> FeatureRow {
    FeatureRow {
        namespace: "user",
        primary_key: key.to_owned(),
        values: vec![("color", FeatureValue::String(color.to_owned()))],
        time: Timestamp::from_millis(millis),
    }
}

fn color_of(connection: &Connection, key: &str) -> String {
    connection
        .query_row(
            "SELECT value FROM features WHERE entity_key = ?1",
            [key],
            |row| row.get(0),
        )
        .expect("the row is there")
}

/// Upserts `rows` as one batch; the number of rows SQLite changed.
fn changes(connection: &mut Connection, rows: &[FeatureRow], ids: &mut RowIds) -> u64 {
    let before = connection.total_changes();
    upsert(connection, &[rows], Some(ids)).expect("written");
    connection.total_changes() - before
}

#[test]
fn a_value_passed_over_is_refused_as_a_written_one_is() {
    let mut connection = Connection::open_in_memory().expect("open");
    connection
        .execute_batch(super::super::SCHEMA)
        .expect("schema");
    let mut too_deep = serde_json::Value::Null;
    for _ in 0..=text::MAX_NESTING {
        too_deep = serde_json::Value::Array(vec![too_deep]);
    }
    let mut older = row("a", "red", 1);
    older.values = vec![("color", FeatureValue::Json(too_deep))];
    let newer = row("a", "blue", 2);
    for batch in [[older.clone(), newer.clone()], [newer, older]] {
        let refused = upsert(&mut connection, &[&batch], Some(&mut RowIds::default()));
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains("nested")),
            "{refused:?}"
        );
    }
}

#[test]
fn a_feature_written_several_times_in_a_transaction_is_written_once() {
    let mut connection = Connection::open_in_memory().expect("open");
    connection
        .execute_batch(super::super::SCHEMA)
        .expect("schema");
    let mut ids = RowIds::default();
    // Out of order in time, with another entity between: the newest wins, and of two
    // equally new the later, as if each had been written in turn.
    let batch = [
        row("a", "red", 1),
        row("a", "blue", 3),
        row("b", "green", 2),
        row("a", "grey", 2),
        row("a", "pink", 3),
    ];
    assert_eq!(changes(&mut connection, &batch, &mut ids), 2);
    assert_eq!(color_of(&connection, "a"), "pink");
    assert_eq!(color_of(&connection, "b"), "green");
    // The same by row id, now that both are known; an older write changes nothing.
    let batch = [
        row("a", "black", 5),
        row("a", "white", 4),
        row("b", "old", 1),
    ];
    assert_eq!(changes(&mut connection, &batch, &mut ids), 1);
    assert_eq!(color_of(&connection, "a"), "black");
    assert_eq!(color_of(&connection, "b"), "green");
}

#[test]
fn a_feature_refused_among_those_accepted_is_left_out_and_the_others_written() {
    let mut connection = Connection::open_in_memory().expect("open");
    // A file whose table refuses one key: SQLite's refusal, which the store cannot foresee.
    connection
        .execute_batch(&super::super::SCHEMA.replace(
            "UNIQUE (entity_key, namespace, feature)",
            "UNIQUE (entity_key, namespace, feature), CHECK (entity_key != 'bad')",
        ))
        .expect("schema");
    let mut pending = super::super::pending::PendingFeatures::default();
    for key in ["good", "bad", "fine"] {
        pending.accept(&mut row(key, key, 10));
    }
    let mut ids = RowIds::default();
    let together = upsert_pending(&mut connection, &pending, Some(&mut ids));
    assert!(
        matches!(together, Err(StoreError::Rejected(_))),
        "{together:?}"
    );
    let refused = upsert_pending_each(&mut connection, &pending, Some(&mut ids)).expect("written");
    let refused: Vec<&str> = refused
        .iter()
        .map(|(feature, _)| feature.as_str())
        .collect();
    assert_eq!(refused, ["user/bad/color"]);
    assert_eq!(color_of(&connection, "good"), "good");
    assert_eq!(color_of(&connection, "fine"), "fine");
}
