//! A resolver that never finishes: past its stream's `timeout`, its message fails in phase
//! `resolver` and is dead-lettered, and the partition goes on.

use super::*;

static SLOW_ORDERS: KafkaSource = KafkaSource::new()
    .topic("slow_orders")
    .dead_letter_queue_topic("slow_orders_dlq");

#[stream(source = SLOW_ORDERS, name = "slow_orders", timeout = "200ms")]
async fn slow_orders(order: Order) -> Result<OrderFeatures, String> {
    if order.id == "hang" {
        std::future::pending::<()>().await;
    }
    order_features(order)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_past_its_timeout_fails_its_message_and_the_partition_goes_on() {
    let kafka = Broker::mock()
        .with_topics(&["slow_orders", "slow_orders_dlq"], 1)
        .await;
    let records: Vec<Record> = ["a", "hang", "b"]
        .into_iter()
        .map(|id| Record::json("slow_orders", &json!({"id": id, "quantity": 1})).key(id))
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let running = runtime_for(&kafka, &["slow_orders"])
        .start()
        .await
        .expect("starts");
    let stats = running.stats("slow_orders").expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 3).await;
    assert!(done, "{s:?}");
    assert_eq!((s.processed, s.failed, s.dead_lettered), (2, 1, 1));
    let store = running.store();
    for id in ["a", "b"] {
        let order = store.entity("order_features", id).await.expect("read");
        assert!(order.is_some(), "{id} stored");
    }
    running.shutdown().await.expect("clean shutdown");
    assert_eq!(
        committed_total(&kafka, "chalk/slow_orders", "slow_orders", 1).await,
        3,
        "offsets move past the message that timed out"
    );
    let letters = kafka
        .read("slow_orders_dlq", 1, PATIENCE)
        .await
        .expect("read the dead-letter topic");
    assert_holds_exactly(&kafka, "slow_orders_dlq", 1, &letters, 1).await;
    assert_eq!(letters[0].key(), Some(&b"hang"[..]));
    assert_eq!(header(&letters[0], dlq::HEADER_PHASE), Some("resolver"));
    let error = header(&letters[0], dlq::HEADER_ERROR).unwrap_or_default();
    assert!(
        error.contains("did not finish within its timeout of 200ms"),
        "{error}"
    );
}

static SLOW_WINDOWS: KafkaSource = KafkaSource::new().topic("slow_windows");

#[stream(source = SLOW_WINDOWS, name = "slow_windows", window = "10m", timeout = "200ms")]
async fn slow_windows(orders: Vec<Order>) -> Option<OrderFeatures> {
    let first = orders.first()?;
    if first.id == "hang" {
        std::future::pending::<()>().await;
    }
    Some(OrderFeatures {
        id: first.id.clone(),
        quantity: orders.iter().map(|o| i64::from(o.quantity)).sum(),
    })
}

/// A window resolver past its timeout fails that window alone (without a broker: the test
/// harness runs the stream as the runtime does).
#[tokio::test]
async fn a_window_resolver_past_its_timeout_fails_that_window() {
    use chalk_streams::resolver::Phase;
    use chalk_streams::testing::{MessageStatus, StreamTester, TestMessage};

    let mut tester = StreamTester::new("slow_windows").expect("declared");
    let now = tester.clock().now().as_millis();
    let start = now - now.rem_euclid(600_000);
    tester.clock().set(Timestamp::from_millis(start));
    for id in ["hang", "ok"] {
        let order = TestMessage::json(&json!({"id": id, "quantity": 2})).key(id);
        assert_eq!(tester.send(order).await, MessageStatus::Windowed);
    }
    let firing = tester.advance(std::time::Duration::from_secs(600));
    let fired = tokio::time::timeout(PATIENCE, firing)
        .await
        .expect("the timeout ends the hanging window's resolver");
    assert_eq!(fired.len(), 2);
    for window in fired {
        match (window.key.as_deref(), window.result) {
            (Some(b"ok"), Ok(rows)) => assert_eq!(rows[0].primary_key, "ok"),
            (Some(b"hang"), Err(error)) => {
                assert_eq!(error.phase, Phase::Resolver);
                assert!(
                    error.message.contains("within its timeout of 200ms"),
                    "{error:?}"
                );
            }
            (key, result) => panic!("{key:?}: {result:?}"),
        }
    }
}

static DROP_PANICS: KafkaSource = KafkaSource::new().topic("drop_panics");

/// Panics when dropped: a guard held across an `.await` that asserts as it is let go.
struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("a guard that asserts as it is dropped");
    }
}

#[stream(source = DROP_PANICS, name = "drop_panics", timeout = "200ms")]
async fn drop_panics(order: Order) -> Result<OrderFeatures, String> {
    if order.id == "hang" {
        let _guard = PanicsWhenDropped;
        std::future::pending::<()>().await;
    }
    order_features(order)
}

/// A resolver past its timeout is dropped; a panic as it is dropped fails its message as the
/// timeout does, rather than stopping the partition's worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_panics_as_it_is_dropped_at_its_timeout_fails_its_message_alone() {
    let kafka = Broker::mock().with_topics(&["drop_panics"], 1).await;
    let records: Vec<Record> = ["a", "hang", "b"]
        .into_iter()
        .map(|id| Record::json("drop_panics", &json!({"id": id, "quantity": 1})).key(id))
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let running = runtime_for(&kafka, &["drop_panics"])
        .start()
        .await
        .expect("starts");
    let stats = running.stats("drop_panics").expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == 3).await;
    assert!(done, "{s:?}");
    assert_eq!((s.processed, s.failed, s.stalled_partitions), (2, 1, 0));
    running.shutdown().await.expect("clean shutdown");
}
