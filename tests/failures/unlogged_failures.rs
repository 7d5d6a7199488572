//! Failed messages beyond the log's rate limit, without a dead-letter topic: each is still
//! logged, by its offset or within a range, although the worker stops before another line.

use std::io::Write;
use std::sync::Mutex;

use super::*;

static UNLOGGED: KafkaSource = KafkaSource::new().topic("orders_unlogged");

#[stream(source = UNLOGGED, name = "orders_unlogged")]
fn orders_unlogged(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

/// What a subscriber wrote, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread: the subscriber set for it sees every line the stream's tasks log.
#[tokio::test(flavor = "current_thread")]
async fn failures_the_rate_limit_held_back_are_logged_when_the_worker_stops() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let kafka = kafka_with_topics(&["orders_unlogged"], 1);
    // Fifteen in a row: more than the ten lines a partition may log in ten seconds.
    let records: Vec<Record> = (0..15)
        .map(|i| Record::bytes("orders_unlogged", format!("not json {i}")))
        .collect();
    kafka.produce_all(&records).await.expect("produce");
    let s = run_until_handled(&kafka, "orders_unlogged", Arc::new(MemoryStore::new()), 15).await;
    assert_eq!((s.failed, s.dead_lettered), (15, 0));

    let text = String::from_utf8_lossy(&captured.0.lock().expect("captured")).into_owned();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("orders_unlogged"))
        .collect();
    for offset in 0..10 {
        assert!(
            lines.iter().any(|line| line.contains("message failed")
                && line.contains(&format!("offset={offset} "))),
            "offset {offset} logged: {lines:#?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|line| line.contains("suppressed=5") && line.contains("\"10-14\"")),
        "the five held back are logged as a range: {lines:#?}"
    );
}
