//! The observability endpoints on the mock cluster: `/metrics` counts what was produced, the
//! readiness check follows partition assignment, `/streams` lists every stream, consumer lag
//! shows a blocked partition falling behind, and the broker's answer times are reported; the
//! server's limits on its connections are in `connections`.

use std::time::Duration;

use chalk_streams::observe::{serve, ObservedStreams, Server};
use chalk_streams::prelude::*;
use chalk_streams::testing::Record;
use chalk_streams::{RunningStreams, Runtime};
use serde::Deserialize;
use serde_json::json;
use suite::{http_get as get, kafka_with_topics, runtime_for, wait_until, PATIENCE};

mod connections;

#[derive(Features, Default)]
struct ObservedOrder {
    #[primary]
    id: String,
    quantity: i64,
}

#[derive(Deserialize)]
struct OrderBody {
    id: String,
    quantity: i64,
}

static ORDERS: KafkaSource = KafkaSource::new()
    .topic("obs_orders")
    .late_arrival_deadline_str("1h")
    .dead_letter_queue_topic("obs_orders_dlq");

#[stream(source = ORDERS, name = "observed_orders")]
fn observed_orders(order: OrderBody) -> Result<ObservedOrder, String> {
    if order.id == "refuse" {
        return Err("orders named `refuse` are refused".to_owned());
    }
    Ok(ObservedOrder {
        id: order.id,
        quantity: order.quantity,
    })
}

/// Starts `runtime`'s streams, and the observability endpoints for them on a free port.
async fn start_observed(runtime: Runtime) -> (RunningStreams, Server) {
    let running = runtime.start().await.expect("runtime starts");
    let server = serve(
        "127.0.0.1:0".parse().expect("an address"),
        ObservedStreams::from(&running),
    )
    .await
    .expect("server starts");
    (running, server)
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(exposition: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().parse().expect("a number"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_was_produced() {
    let kafka = kafka_with_topics(&["obs_orders", "obs_orders_dlq"], 2);
    let good = 12_u64;
    for i in 0..good {
        kafka
            .produce(&Record::json(
                "obs_orders",
                &json!({"id": format!("o{i}"), "quantity": i}),
            ))
            .await
            .expect("produce");
    }
    let bad = [
        Record::bytes("obs_orders", "not json"),
        Record::json("obs_orders", &json!({"id": "refuse", "quantity": 1})),
        Record::json("obs_orders", &json!({"id": "no quantity"})),
    ];
    for record in &bad {
        kafka.produce(record).await.expect("produce");
    }
    let two_hours_ago = Timestamp::from_millis(Timestamp::now().as_millis() - 2 * 3_600_000);
    let late = 2_u64;
    for i in 0..late {
        let record = Record::json(
            "obs_orders",
            &json!({"id": format!("late{i}"), "quantity": 1}),
        )
        .timestamp(two_hours_ago);
        kafka.produce(&record).await.expect("produce");
    }
    let total = good + bad.len() as u64 + late;

    let (running, server) = start_observed(runtime_for(&kafka, &["observed_orders"])).await;
    let stats = running.stats("observed_orders").expect("stream runs");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.handled() == total).await;
    assert!(done, "every message handled: {s:?}");

    let (status, text) = get(server.local_addr(), "/metrics").await;
    assert_eq!(status, 200, "{text}");
    let labels = r#"stream="observed_orders""#;
    let value =
        |name: &str| sample(&text, name, labels).unwrap_or_else(|| panic!("{name} in {text}"));
    assert_eq!(value("chalk_stream_messages_processed_total"), good as f64);
    assert_eq!(
        value("chalk_stream_messages_failed_total"),
        bad.len() as f64
    );
    assert_eq!(
        value("chalk_stream_messages_dead_lettered_total"),
        bad.len() as f64
    );
    assert_eq!(
        value("chalk_stream_messages_skipped_late_total"),
        late as f64
    );
    assert_eq!(value("chalk_stream_rows_written_total"), good as f64);
    assert_eq!(value("chalk_stream_retries_total"), 0.0);
    assert_eq!(value("chalk_stream_waiting_partitions"), 0.0);
    assert_eq!(value("chalk_stream_consumer_failed"), 0.0);
    assert!(value("chalk_stream_assigned_partitions") >= 1.0);
    assert_eq!(
        value("chalk_stream_processing_latency_seconds_count"),
        good as f64,
        "one latency per processed message"
    );
    let inf = r#"le="+Inf",stream="observed_orders""#;
    assert_eq!(
        sample(&text, "chalk_stream_processing_latency_seconds_bucket", inf),
        Some(good as f64),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");

    server.shutdown().await.expect("server stops");
    running.shutdown().await.expect("clean shutdown");
}

static ASSIGNED_NOW: KafkaSource = KafkaSource::new().topic("obs_now");
static ASSIGNED_LATER: KafkaSource = KafkaSource::new().topic("obs_later");

#[stream(source = ASSIGNED_NOW, name = "observed_now")]
fn observed_now(order: OrderBody) -> ObservedOrder {
    ObservedOrder {
        id: order.id,
        quantity: order.quantity,
    }
}

#[stream(source = ASSIGNED_LATER, name = "observed_later")]
fn observed_later(order: OrderBody) -> ObservedOrder {
    ObservedOrder {
        id: order.id,
        quantity: order.quantity,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_partition_assignment() {
    // `obs_later` does not exist yet: its stream cannot be assigned a partition until it does.
    let kafka = kafka_with_topics(&["obs_now"], 2);
    let (running, server) = start_observed(
        runtime_for(&kafka, &["observed_now", "observed_later"])
            .kafka_property("topic.metadata.refresh.interval.ms", "500"),
    )
    .await;
    let addr = server.local_addr();

    assert_eq!(get(addr, "/health/live").await.0, 200);
    let now = running.stats("observed_now").expect("stream runs");
    let later = running.stats("observed_later").expect("stream runs");
    wait_until(&[&now], || now.snapshot().assigned_partitions > 0).await;
    for path in ["/health/ready", "/health"] {
        let (status, body) = get(addr, path).await;
        assert_eq!(status, 503, "{path}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(
            body,
            json!({"ready": false, "unassigned": ["observed_later"]})
        );
    }

    let (status, body) = get(addr, "/streams").await;
    assert_eq!(status, 200);
    let streams: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let names: Vec<&str> = streams
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| s["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["observed_now", "observed_later"]);
    for stream in streams.as_array().expect("an array") {
        for counter in [
            "processed",
            "skipped_late",
            "failed",
            "dead_lettered",
            "retries",
        ] {
            assert_eq!(stream["counters"][counter], json!(0), "{stream}");
        }
    }
    assert!(streams[0]["assigned_partitions"].as_u64() > Some(0));
    assert_eq!(streams[1]["assigned_partitions"], json!(0));

    kafka.create_topic("obs_later", 1).expect("topic created");
    wait_until(&[&later], || later.snapshot().assigned_partitions > 0).await;
    // The endpoint is an outside view of the counters, with no event to wait on: poll it a
    // bounded number of times.
    let mut ready = None;
    for _ in 0..100 {
        let (status, body) = get(addr, "/health/ready").await;
        if status == 200 {
            ready = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = ready.expect("ready once every stream is assigned");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).expect("JSON"),
        json!({"ready": true})
    );

    drop(server);
    running.shutdown().await.expect("clean shutdown");
}

static GATED: KafkaSource = KafkaSource::new().topic("obs_gated");

/// Messages numbered from this on wait for the gate.
const GATED_FROM: u64 = 100;
static GATE: suite::Gate = suite::Gate::new();

#[stream(source = GATED, name = "observed_gated")]
async fn observed_gated(order: OrderBody) -> ObservedOrder {
    let number: u64 = order.id[1..].parse().expect("o<number>");
    if number >= GATED_FROM {
        GATE.pass().await;
    }
    ObservedOrder {
        id: order.id,
        quantity: order.quantity,
    }
}

fn gated_order(number: u64) -> Record {
    Record::json(
        "obs_gated",
        &json!({"id": format!("o{number}"), "quantity": 1}),
    )
    .partition(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_partition_shows_consumer_lag() {
    let kafka = kafka_with_topics(&["obs_gated"], 1);
    for i in 0..5 {
        kafka.produce(&gated_order(i)).await.expect("produce");
    }
    let (running, server) = start_observed(
        runtime_for(&kafka, &["observed_gated"]).statistics_interval(Duration::from_millis(500)),
    )
    .await;
    let stats = running.stats("observed_gated").expect("stream runs");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed == 5).await;
    assert!(done, "{s:?}");

    let reached = GATE.reached();
    for i in GATED_FROM..GATED_FROM + 5 {
        kafka.produce(&gated_order(i)).await.expect("produce");
    }
    tokio::time::timeout(PATIENCE, reached)
        .await
        .expect("the worker is blocked");
    let key = ("obs_gated".to_owned(), 0);
    wait_until(&[&stats], || {
        stats.consumer_lags().get(&key).is_some_and(|&lag| lag > 0)
    })
    .await;

    let (_, text) = get(server.local_addr(), "/metrics").await;
    let lag = sample(
        &text,
        "chalk_stream_consumer_lag",
        r#"stream="observed_gated",topic="obs_gated",partition="0""#,
    );
    assert!(lag.is_some_and(|lag| lag > 0.0), "{text}");
    let (_, body) = get(server.local_addr(), "/streams").await;
    let streams: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        streams[0]["partitions"][0]["lag"].as_i64() > Some(0),
        "{streams}"
    );

    GATE.open();
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed == 10).await;
    assert!(done, "{s:?}");
    drop(server);
    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_status_show_how_long_the_broker_takes_to_answer() {
    let kafka = kafka_with_topics(&["obs_orders", "obs_orders_dlq"], 1);
    kafka
        .produce(&Record::json(
            "obs_orders",
            &json!({"id": "o1", "quantity": 1}),
        ))
        .await
        .expect("produce");
    let (running, server) = start_observed(
        runtime_for(&kafka, &["observed_orders"]).statistics_interval(Duration::from_millis(200)),
    )
    .await;
    let stats = running.stats("observed_orders").expect("stream runs");
    let (s, done) = stats.wait_for(PATIENCE, |s| s.processed == 1).await;
    assert!(done, "{s:?}");
    wait_until(&[&stats], || !stats.broker_round_trips().is_empty()).await;

    // librdkafka names a broker `host:port/id`; the mock cluster's one broker is the bootstrap.
    let round_trips = stats.broker_round_trips();
    let (broker, round_trip) = round_trips.iter().next().expect("a broker");
    assert!(
        broker.starts_with(&format!("{}/", kafka.bootstrap_servers())),
        "{round_trips:?}"
    );
    assert!(round_trip.requests > 0, "{round_trips:?}");
    assert!(round_trip.p50 <= round_trip.p99, "{round_trips:?}");

    let (_, text) = get(server.local_addr(), "/metrics").await;
    for quantile in ["0.5", "0.99"] {
        let labels = format!(r#"stream="observed_orders",broker="{broker}",quantile="{quantile}""#);
        let seconds = sample(&text, "chalk_stream_broker_round_trip_seconds", &labels);
        assert!(seconds.is_some_and(|s| s > 0.0), "{labels} in {text}");
    }
    let (_, body) = get(server.local_addr(), "/streams").await;
    let streams: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let reported = &streams[0]["brokers"][0];
    assert_eq!(
        reported["broker"].as_str(),
        Some(broker.as_str()),
        "{streams}"
    );
    assert!(reported["p99_ms"].as_f64() > Some(0.0), "{streams}");
    assert!(reported["requests"].as_u64() > Some(0), "{streams}");
    drop(server);
    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoints_answer_while_the_streams_start() {
    let kafka = kafka_with_topics(&["obs_orders", "obs_orders_dlq"], 1);
    let observed = ObservedStreams::starting();
    let server = chalk_streams::observe::bind("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("bind")
        .serve(observed.clone());
    let addr = server.local_addr();
    assert_eq!(get(addr, "/health/live").await.0, 200);
    let (status, body) = get(addr, "/health/ready").await;
    assert_eq!(status, 503);
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body, json!({"ready": false, "starting": true}));
    assert_eq!(get(addr, "/metrics").await.0, 200);

    let running = runtime_for(&kafka, &["observed_orders"])
        .start()
        .await
        .expect("runtime starts");
    observed.started(&running);
    let stats = running.stats("observed_orders").expect("stream runs");
    let (s, assigned) = stats
        .wait_for(PATIENCE, |s| s.assigned_partitions == 1)
        .await;
    assert!(assigned, "{s:?}");
    assert_eq!(get(addr, "/health/ready").await.0, 200);
    let (_, text) = get(addr, "/metrics").await;
    assert!(text.contains("observed_orders"), "{text}");
    running.shutdown().await.expect("clean shutdown");
}
