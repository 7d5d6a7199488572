//! Failed messages beyond the log's rate limit, without a dead-letter topic: each is still
//! logged, by its offset or within a range, although no other line comes (the worker stops, or
//! the partition reads nothing more that fails).

use std::io::Write;
use std::sync::Mutex;

use super::*;

static UNLOGGED: KafkaSource = KafkaSource::new().topic("orders_unlogged");

#[stream(source = UNLOGGED, name = "orders_unlogged")]
fn orders_unlogged(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

static UNLOGGED_QUIET: KafkaSource = KafkaSource::new().topic("orders_unlogged_quiet");

#[stream(source = UNLOGGED_QUIET, name = "orders_unlogged_quiet")]
fn orders_unlogged_quiet(order: Order) -> Result<OrderFeatures, String> {
    order_features(order)
}

static UNLOGGED_WINDOWS: KafkaSource = KafkaSource::new().topic("orders_unlogged_windows");

#[stream(source = UNLOGGED_WINDOWS, name = "orders_unlogged_windows", window = "10m")]
fn orders_unlogged_windows(orders: Vec<Order>) -> Option<OrderFeatures> {
    let first = orders.first()?;
    Some(OrderFeatures {
        id: first.id.clone(),
        quantity: orders.iter().map(|o| i64::from(o.quantity)).sum(),
    })
}

/// What a subscriber wrote, shared with the test, which it tells of each line.
#[derive(Clone, Default)]
struct Captured(Arc<(Mutex<Vec<u8>>, tokio::sync::Notify)>);

impl Captured {
    /// Sets a subscriber writing here for this thread (the test's runtime has one thread, so
    /// it sees every line the stream's tasks log).
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// The lines that name `stream`.
    fn lines_of(&self, stream: &str) -> Vec<String> {
        let text = self
            .0
             .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&text)
            .lines()
            .filter(|line| line.contains(stream))
            .map(str::to_owned)
            .collect()
    }

    /// Waits (at most `PATIENCE`) for a line of `stream` that holds each of `parts`.
    async fn wait_for_line(&self, stream: &str, parts: &[&str]) -> bool {
        let found = async {
            loop {
                let told = self.0 .1.notified();
                tokio::pin!(told);
                told.as_mut().enable();
                let lines = self.lines_of(stream);
                if lines
                    .iter()
                    .any(|line| parts.iter().all(|p| line.contains(p)))
                {
                    return;
                }
                told.await;
            }
        };
        tokio::time::timeout(PATIENCE, found).await.is_ok()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
             .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        self.0 .1.notify_waiters();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Fifteen bad messages in a row: more than the ten lines a partition may log in ten seconds.
async fn fifteen_bad_messages(kafka: &KafkaTestClient, topic: &str) {
    let records: Vec<Record> = (0..15)
        .map(|i| Record::bytes(topic, format!("not json {i}")))
        .collect();
    kafka.produce_all(&records).await.expect("produce");
}

// One thread: the subscriber set for it sees every line the stream's tasks log.
#[tokio::test(flavor = "current_thread")]
async fn failures_the_rate_limit_held_back_are_logged_when_the_worker_stops() {
    let captured = Captured::default();
    let _logging = captured.install();
    let kafka = kafka_with_topics(&["orders_unlogged"], 1);
    fifteen_bad_messages(&kafka, "orders_unlogged").await;
    let s = run_until_handled(&kafka, "orders_unlogged", Arc::new(MemoryStore::new()), 15).await;
    assert_eq!((s.failed, s.dead_lettered), (15, 0));

    let lines = captured.lines_of("orders_unlogged");
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

/// Fifteen bad messages for `stream` (named as its topic), which then runs on, reading nothing
/// more: the five the rate limit held back must be logged while it runs.
async fn held_back_failures_are_logged_while_running(stream: &str) {
    let captured = Captured::default();
    let _logging = captured.install();
    let kafka = kafka_with_topics(&[stream], 1);
    fifteen_bad_messages(&kafka, stream).await;
    let running = runtime_for(&kafka, &[stream])
        .start()
        .await
        .expect("starts");
    let stats = running.stats(stream).expect("stream");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.failed == 15).await;
    assert!(done, "{s:?}");
    let logged = captured
        .wait_for_line(stream, &["suppressed=5", "\"10-14\""])
        .await;
    assert!(
        logged,
        "the five held back are logged while the stream runs: {:#?}",
        captured.lines_of(stream)
    );
    running.shutdown().await.expect("stops");
}

/// The partition reads nothing more that fails, and goes on running: the failures held back are
/// logged as the rate limit's window ends, not only when the worker stops.
#[tokio::test(flavor = "current_thread")]
async fn failures_the_rate_limit_held_back_are_logged_as_its_window_ends() {
    held_back_failures_are_logged_while_running("orders_unlogged_quiet").await;
}

/// The same for a window stream.
#[tokio::test(flavor = "current_thread")]
async fn a_window_stream_logs_the_failures_held_back_as_the_window_of_its_log_ends() {
    held_back_failures_are_logged_while_running("orders_unlogged_windows").await;
}
