//! The behaviour every store shares: write, read back, partial rows merge, an older feature time never overwrites a newer one, types round-trip, racing writers.

use super::*;

async fn writes_and_reads_back(store: Arc<dyn FeatureStore>) {
    assert_eq!(store.entity("user", "nobody").await.expect("read"), None);
    store
        .write(&[row(
            "u1",
            10,
            vec![("color", text("red")), ("age", FeatureValue::Int(30))],
        )])
        .await
        .expect("write");
    let user = store
        .entity("user", "u1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!((user.namespace.as_str(), user.key.as_str()), ("user", "u1"));
    assert_eq!(user.features.len(), 2);
    assert_eq!(value(&*store, "u1", "color").await, Some((text("red"), 10)));
    assert_eq!(
        value(&*store, "u1", "age").await,
        Some((FeatureValue::Int(30), 10))
    );
}

async fn partial_rows_merge(store: Arc<dyn FeatureStore>) {
    store
        .write(&[row("u2", 10, vec![("color", text("red"))])])
        .await
        .expect("write");
    store
        .write(&[row("u2", 20, vec![("age", FeatureValue::Int(5))])])
        .await
        .expect("write");
    let user = store
        .entity("user", "u2")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        user.features.len(),
        2,
        "a row setting some features keeps the others"
    );
    assert_eq!(value(&*store, "u2", "color").await, Some((text("red"), 10)));
}

async fn older_feature_time_never_overwrites_newer(store: Arc<dyn FeatureStore>) {
    store
        .write(&[row("u3", 20, vec![("color", text("blue"))])])
        .await
        .expect("write");
    store
        .write(&[row("u3", 10, vec![("color", text("stale"))])])
        .await
        .expect("write");
    assert_eq!(
        value(&*store, "u3", "color").await,
        Some((text("blue"), 20))
    );
    // Within one batch too: the newest wins whatever the order.
    store
        .write(&[
            row("u3", 40, vec![("color", text("newest"))]),
            row("u3", 30, vec![("color", text("older"))]),
        ])
        .await
        .expect("write");
    assert_eq!(
        value(&*store, "u3", "color").await,
        Some((text("newest"), 40))
    );
    // The same time replaces: a recomputed value wins.
    store
        .write(&[row("u3", 40, vec![("color", text("recomputed"))])])
        .await
        .expect("write");
    assert_eq!(
        value(&*store, "u3", "color").await,
        Some((text("recomputed"), 40))
    );
}

async fn types_round_trip(store: Arc<dyn FeatureStore>) {
    let values = vec![
        ("bool", FeatureValue::Bool(true)),
        ("int", FeatureValue::Int(-42)),
        ("big", FeatureValue::Int(i64::MAX)),
        ("float", FeatureValue::Float(2.5)),
        ("string", text("héllo, wörld")),
        ("numeric_text", text("0123")),
        (
            "before_1970",
            FeatureValue::Timestamp(Timestamp::from_millis(-86_400_001)),
        ),
        (
            "timestamp",
            FeatureValue::Timestamp(Timestamp::from_millis(1_700_000_000_123)),
        ),
        (
            "list",
            FeatureValue::List(vec![
                FeatureValue::Int(1),
                text("two"),
                FeatureValue::Float(3.5),
            ]),
        ),
        (
            "json",
            FeatureValue::Json(json!({"nested": {"a": [1, 2, {"b": null}]}})),
        ),
    ];
    store
        .write(&[row("u4", 1, values.clone())])
        .await
        .expect("write");
    let user = store
        .entity("user", "u4")
        .await
        .expect("read")
        .expect("stored");
    for (name, expected) in values {
        assert_eq!(user.features[name].value, expected, "{name}");
    }
}

async fn floats_json_has_no_number_for_round_trip(store: Arc<dyn FeatureStore>) {
    let values = vec![
        ("nan", FeatureValue::Float(f64::NAN)),
        ("inf", FeatureValue::Float(f64::INFINITY)),
        (
            "list",
            FeatureValue::List(vec![
                FeatureValue::Float(f64::NEG_INFINITY),
                FeatureValue::Float(f64::NAN),
                FeatureValue::Float(1.5),
            ]),
        ),
    ];
    store.write(&[row("u5", 1, values)]).await.expect("write");
    let user = store
        .entity("user", "u5")
        .await
        .expect("the entity reads back")
        .expect("stored");
    let float = |name: &str| f64::from_feature_value(&user.features[name].value);
    assert!(float("nan").expect("nan").is_nan());
    assert_eq!(float("inf"), Ok(f64::INFINITY));
    let list = Vec::<f64>::from_feature_value(&user.features["list"].value).expect("list");
    assert_eq!(list.len(), 3);
    assert_eq!((list[0], list[2]), (f64::NEG_INFINITY, 1.5));
    assert!(list[1].is_nan());
    store.scan().await.expect("the whole store still reads");
}

/// A value nested deeper than serde_json reads back is refused (the message then fails in phase
/// `store`), rather than written to make its entity, and the store's scan, unreadable.
async fn a_value_too_deep_to_read_back_is_refused(store: Arc<dyn FeatureStore>) {
    let deep = format!("{}{}", "[".repeat(120), "]".repeat(120));
    let deep: serde_json::Value = serde_json::from_str(&deep).expect("JSON");
    let deeper = serde_json::json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": deep}}}}}}}});
    let refused = store
        .write(&[row("u6", 1, vec![("blob", FeatureValue::Json(deeper))])])
        .await
        .expect_err("refused");
    assert!(
        matches!(&refused, StoreError::Rejected(why) if why.contains("128 levels deep")),
        "{refused:?}"
    );
    assert!(store.entity("user", "u6").await.expect("reads").is_none());
    store.scan().await.expect("the whole store still reads");
}

async fn a_row_without_values_makes_no_entity(store: Arc<dyn FeatureStore>) {
    store
        .write(&[row("u6", 1, Vec::new())])
        .await
        .expect("write");
    assert_eq!(store.entity("user", "u6").await.expect("read"), None);
}

async fn racing_writers_keep_the_newest(store: Arc<dyn FeatureStore>) {
    let writers: Vec<_> = (0..8_i64)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..25_i64 {
                    let time = (i * 8 + w) * 7 % 200;
                    let v = FeatureValue::Int(time);
                    store
                        .write(&[row("race", time, vec![("v", v)])])
                        .await
                        .expect("write");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let max = (0..8_i64)
        .flat_map(|w| (0..25_i64).map(move |i| (i * 8 + w) * 7 % 200))
        .max()
        .expect("times");
    assert_eq!(
        value(&*store, "race", "v").await,
        Some((FeatureValue::Int(max), max))
    );
}

async fn scan_lists_every_entity_in_order(store: Arc<dyn FeatureStore>) {
    let entities = store.scan().await.expect("scan");
    let keys: Vec<(&str, &str)> = entities
        .iter()
        .map(|e| (e.namespace.as_str(), e.key.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.contains(&("user", "u1")));
}

/// Rows of one batch that differ in namespace, feature, type and time land each where it
/// belongs (SQLite binds only what changes from the row before).
async fn a_batch_of_mixed_rows_keeps_each_apart(store: Arc<dyn FeatureStore>) {
    let team = |key: &str, time, values| FeatureRow {
        namespace: "team",
        ..row(key, time, values)
    };
    store
        .write(&[
            row("m1", 5, vec![("color", text("red"))]),
            team("m1", 6, vec![("color", text("blue"))]),
            row("m2", 7, vec![("color", FeatureValue::Int(7))]),
            row(
                "m3",
                8,
                vec![("size", FeatureValue::Int(8)), ("color", text("green"))],
            ),
        ])
        .await
        .expect("write");
    assert_eq!(value(&*store, "m1", "color").await, Some((text("red"), 5)));
    let m1_team = store
        .entity("team", "m1")
        .await
        .expect("read")
        .expect("team m1");
    assert_eq!(m1_team.features["color"].value, text("blue"));
    assert_eq!(m1_team.features["color"].time, Timestamp::from_millis(6));
    assert_eq!(
        value(&*store, "m2", "color").await,
        Some((FeatureValue::Int(7), 7))
    );
    assert_eq!(
        value(&*store, "m3", "size").await,
        Some((FeatureValue::Int(8), 8))
    );
    assert_eq!(
        value(&*store, "m3", "color").await,
        Some((text("green"), 8))
    );
}

/// Of two writes of one feature with one time in a batch, the later wins: whether the feature
/// was stored before (SQLite then updates it by its row id) or not (it is inserted), and
/// whatever other features the batch holds.
async fn the_later_of_two_equal_time_writes_in_a_batch_wins(store: Arc<dyn FeatureStore>) {
    store
        .write(&[row("t1", 1, vec![("color", text("stored"))])])
        .await
        .expect("write");
    store
        .write(&[
            row("t2", 3, vec![("color", text("first"))]),
            row("t1", 3, vec![("color", text("first"))]),
            row("t0", 3, vec![("color", text("other"))]),
            row("t1", 3, vec![("color", text("second"))]),
            row("t2", 3, vec![("color", text("second"))]),
        ])
        .await
        .expect("write");
    for key in ["t1", "t2"] {
        assert_eq!(
            value(&*store, key, "color").await,
            Some((text("second"), 3)),
            "{key}"
        );
    }
}

/// Runs every case above against `store`.
pub(super) async fn behaviour_suite(store: Arc<dyn FeatureStore>) {
    writes_and_reads_back(Arc::clone(&store)).await;
    partial_rows_merge(Arc::clone(&store)).await;
    older_feature_time_never_overwrites_newer(Arc::clone(&store)).await;
    types_round_trip(Arc::clone(&store)).await;
    floats_json_has_no_number_for_round_trip(Arc::clone(&store)).await;
    a_value_too_deep_to_read_back_is_refused(Arc::clone(&store)).await;
    a_row_without_values_makes_no_entity(Arc::clone(&store)).await;
    racing_writers_keep_the_newest(Arc::clone(&store)).await;
    a_batch_of_mixed_rows_keeps_each_apart(Arc::clone(&store)).await;
    the_later_of_two_equal_time_writes_in_a_batch_wins(Arc::clone(&store)).await;
    scan_lists_every_entity_in_order(store).await;
}
