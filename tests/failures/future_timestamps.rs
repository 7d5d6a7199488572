//! A message stamped far ahead of the clock fails in phase `parse` and is dead-lettered:
//! stored, its feature time would keep every later value of its entity out until the clock
//! reached it.

use super::*;

on_both_brokers!(a_message_stamped_far_ahead_is_dead_lettered_and_freezes_nothing);
async fn a_message_stamped_far_ahead_is_dead_lettered_and_freezes_nothing(broker: Broker) {
    let kafka = broker.with_topics(&["orders", "orders_dlq"], 1).await;
    let now = Timestamp::now().as_millis();
    let minutes = |m: i64| Timestamp::from_millis(now + m * 60_000);
    let stamped = [
        // In microseconds by mistake: fifty thousand years from now.
        (1, Timestamp::from_millis(now.saturating_mul(1_000))),
        (2, minutes(120)),
        (3, minutes(0)),
        // Within the hour a producer's clock may be ahead.
        (4, minutes(30)),
    ];
    for (quantity, at) in stamped {
        let order = json!({"id": "o1", "quantity": quantity});
        kafka
            .produce(&Record::json("orders", &order).key("o1").timestamp(at))
            .await
            .expect("produce");
    }

    let running = runtime_for(&kafka, &["orders"])
        .start()
        .await
        .expect("starts");
    let stats = running.stats("orders").expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 4).await;
    assert!(done, "{s:?}");
    assert_eq!((s.processed, s.failed, s.dead_lettered), (2, 2, 2));
    let stored = running
        .store()
        .entity("order_features", "o1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        stored.features["quantity"].value,
        chalk_streams::FeatureValue::Int(4),
        "the later messages were stored"
    );
    running.shutdown().await.expect("clean shutdown");

    let letters = kafka
        .read("orders_dlq", 2, PATIENCE)
        .await
        .expect("read the dead-letter topic");
    assert_holds_exactly(&kafka, "orders_dlq", 1, &letters, 2).await;
    for letter in &letters {
        assert_eq!(header(letter, dlq::HEADER_PHASE), Some("parse"));
        let error = header(letter, dlq::HEADER_ERROR).unwrap_or_default();
        assert!(
            error.contains("is more than 1h ahead of the clock"),
            "{error}"
        );
    }
}
