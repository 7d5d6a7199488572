//! (d) End-to-end latency at a fixed produce rate: each message carries the microsecond it was
//! handed to the producer; a store wrapper notes, as it writes each row, how long ago that was.
//! The hand-written loop of (a) is timed the same way, as it decodes each message, on a topic of
//! its own. The first second of messages is a warm-up (fetch positions, first fetches) and is not
//! counted.
//!
//! Both consumers set `fetch.wait.max.ms` to [`FETCH_WAIT_MS`]: the mock cluster and tansu answer
//! a fetch only when that wait runs out, not when data arrives as Kafka does, so with the default
//! (500 ms) every figure would be that wait.
//!
//! The producer batches for [`PRODUCER_LINGER_MS`]. The mock cluster finds a fetch's offset by
//! walking the partition's message sets from the oldest, so its cost per fetch grows with every
//! batch produced: with 1 ms batches at 10,000 msg/s that walk took 90% of the mock's CPU after
//! 8 s and latencies of both consumers grew to seconds. With 3 ms batches the mock keeps up for
//! the whole run.
//!
//! Under each figure, the broker's own share: how long it took to answer the consumer's fetches
//! ((a)'s from librdkafka's statistics, (b)'s as chalk-streams reports them) and the producer's
//! requests, as the p99 of each second (see [`crate::round_trips`]).

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chalk_streams::prelude::*;
use chalk_streams::runtime::StreamStats;
use chalk_streams::store::{Entity, FeatureStore, MemoryStore, StoreError};
use chalk_streams::{FeatureRow, FeatureValue};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use serde::Deserialize;

use crate::fail;
use crate::kafka::{bench_stream, send, tokio_runtime, with_consumer_properties};
use crate::round_trips::{in_ms, RoundTrips, STATISTICS_INTERVAL_MS};
use crate::{run_self, Args};

/// The topic of the latency run of (a).
pub const TOPIC_A: &str = "bench_latency_a";
/// The topic of the latency run of (b).
pub const TOPIC: &str = "bench_latency";

/// The first second of messages warms up (fetch positions, first fetches) and is not counted.
const WARM_UP_SECONDS: u64 = 1;

/// How long a fetch may wait for data, in both consumers.
const FETCH_WAIT_MS: &str = "2";

/// The producer's batching delay: with none, each message is a produce request of its own,
/// which the mock cluster cannot take 10,000 times a second; with 1 ms, its message sets pile up
/// faster than its fetch handling can walk them (see the module's documentation).
const PRODUCER_LINGER_MS: &str = "3";

#[derive(Deserialize)]
struct Probe {
    id: String,
    sent_us: i64,
}

#[derive(Features, Default)]
struct LatencyProbe {
    #[primary]
    id: String,
    sent_us: Option<i64>,
}

static LATENCY_SOURCE: KafkaSource = KafkaSource::new().topic(TOPIC);

#[stream(source = LATENCY_SOURCE, name = "bench_latency")]
fn bench_latency(probe: Probe) -> LatencyProbe {
    LatencyProbe {
        id: probe.id,
        sent_us: Some(probe.sent_us),
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The in-memory store, noting each row's age (write time minus produce time) as it writes.
#[derive(Default)]
struct StopwatchStore {
    inner: MemoryStore,
    /// Messages sent before this are the warm-up: not counted.
    measure_from_us: AtomicI64,
    ages_us: Mutex<Vec<i64>>,
}

#[async_trait::async_trait]
impl FeatureStore for StopwatchStore {
    async fn write(&self, rows: &[FeatureRow]) -> Result<(), StoreError> {
        self.inner.write(rows).await?;
        let now = now_us();
        let mut ages = self.ages_us.lock().unwrap_or_else(|e| e.into_inner());
        for row in rows {
            for (name, value) in &row.values {
                if let (&"sent_us", FeatureValue::Int(sent)) = (name, value) {
                    if *sent >= self.measure_from_us.load(Ordering::Relaxed) {
                        ages.push(now - sent);
                    }
                }
            }
        }
        Ok(())
    }

    async fn entity(&self, namespace: &str, key: &str) -> Result<Option<Entity>, StoreError> {
        self.inner.entity(namespace, key).await
    }

    async fn scan(&self) -> Result<Vec<Entity>, StoreError> {
        self.inner.scan().await
    }
}

/// The hand-written loop of (a), timing each message as it decodes it: the latency of this stack
/// without chalk-streams. Prints `p50_us p99_us p999_us count`.
pub fn run_hand_written(bootstrap: &str, partitions: u64, rate: u64, seconds: u64) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Message as _;
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS.to_string())
        .set(
            "group.id",
            format!("bench-latency-a-{}", std::process::id()),
        )
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", FETCH_WAIT_MS);
    let consumer: BaseConsumer<RoundTrips> = with_consumer_properties(config)
        .create_with_context(RoundTrips::default())
        .unwrap_or_else(|e| fail(&e.to_string()));
    consumer
        .subscribe(&[TOPIC_A])
        .unwrap_or_else(|e| fail(&e.to_string()));
    // Joined once the assignment holds every partition and their positions are known.
    let deadline = Instant::now() + Duration::from_secs(60);
    while consumer
        .assignment()
        .map_or(0, |a| u64::try_from(a.count()).unwrap_or(0))
        < partitions
    {
        if Instant::now() > deadline {
            fail("the hand-written latency consumer never got its partitions");
        }
        let _ = consumer.poll(Duration::from_millis(50));
    }
    let total = rate * (WARM_UP_SECONDS + seconds);
    let measure_from = now_us() + i64::try_from(WARM_UP_SECONDS * 1_000_000).unwrap_or(0);
    let bootstrap = bootstrap.to_owned();
    let producer = std::thread::spawn(move || produce_at_rate(&bootstrap, TOPIC_A, rate, total));
    let mut ages = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(seconds + 120);
    while seen < total && Instant::now() < deadline {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
            if let Some(probe) = message
                .payload()
                .and_then(|p| serde_json::from_slice::<Probe>(p).ok())
            {
                seen += 1;
                if probe.sent_us >= measure_from {
                    ages.push(now_us() - probe.sent_us);
                }
            }
        }
    }
    let produce_p99_us = producer.join().unwrap_or_default();
    print_figures(ages, &consumer.context().p99_us(), &produce_p99_us);
}

/// Prints `p50 p99 p99.9 count` of `ages`, then the fetch and produce round trips' p99 per
/// second, each list after its length.
fn print_figures(mut ages: Vec<i64>, fetch_p99_us: &[i64], produce_p99_us: &[i64]) {
    ages.sort_unstable();
    let at = |quantile: f64| {
        let index = ((ages.len() as f64 - 1.0) * quantile).round() as usize;
        ages.get(index).copied().unwrap_or(0)
    };
    let list = |p99_us: &[i64]| {
        let items: Vec<String> = p99_us.iter().map(i64::to_string).collect();
        format!("{} {}", p99_us.len(), items.join(" "))
    };
    println!(
        "{} {} {} {} {} {}",
        at(0.5),
        at(0.99),
        at(0.999),
        ages.len(),
        list(fetch_p99_us),
        list(produce_p99_us)
    );
}

/// Runs the stream, produces `rate` messages a second for `seconds` once every partition is
/// assigned, and prints `p50_us p99_us p999_us count`.
pub fn run(bootstrap: &str, partitions: u64, rate: u64, seconds: u64) {
    let store = Arc::new(StopwatchStore::default());
    let total = rate * (WARM_UP_SECONDS + seconds);
    let (fetch_p99_us, produce_p99_us) = tokio_runtime().block_on(async {
        let running = bench_stream(
            "bench_latency",
            bootstrap,
            &[("fetch.wait.max.ms", FETCH_WAIT_MS)],
            |_| None,
        )
        .statistics_interval(Duration::from_millis(STATISTICS_INTERVAL_MS))
        .store(store.clone())
        .start()
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
        let stats = running
            .stats("bench_latency")
            .unwrap_or_else(|| fail("no stream"));
        let (_, assigned) = stats
            .wait_for(Duration::from_secs(60), |s| {
                s.assigned_partitions >= partitions
            })
            .await;
        if !assigned {
            fail("the latency stream never got its partitions");
        }
        store.measure_from_us.store(
            now_us() + i64::try_from(WARM_UP_SECONDS * 1_000_000).unwrap_or(0),
            Ordering::Relaxed,
        );
        let bootstrap = bootstrap.to_owned();
        let producer = std::thread::spawn(move || produce_at_rate(&bootstrap, TOPIC, rate, total));
        let (stop_sampling, stop) = tokio::sync::oneshot::channel();
        let sampler = tokio::spawn(sample_fetch_round_trips(Arc::clone(&stats), stop));
        let (snapshot, done) = stats
            .wait_for(Duration::from_secs(seconds + 120), |s| s.handled() >= total)
            .await;
        let _ = stop_sampling.send(());
        let fetch_p99_us = sampler.await.unwrap_or_default();
        if !done {
            fail(&format!("latency run: only {} handled", snapshot.handled()));
        }
        let produce_p99_us = producer.join().unwrap_or_default();
        let _ = running.shutdown().await;
        (fetch_p99_us, produce_p99_us)
    });
    let ages = store
        .ages_us
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    print_figures(ages, &fetch_p99_us, &produce_p99_us);
}

/// The p99 of each statistics window of the stream's broker round trips (mostly fetches), as
/// the stream reports them: read four times per window, each new window kept once.
async fn sample_fetch_round_trips(
    stats: Arc<StreamStats>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Vec<i64> {
    let mut windows = Vec::new();
    let mut last = None;
    let mut ticks = tokio::time::interval(Duration::from_millis(STATISTICS_INTERVAL_MS / 4));
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = &mut stop => return windows,
        }
        let latest = stats.broker_round_trips().into_values().next();
        if latest.is_some() && latest != last {
            windows.extend(latest.map(|r| i64::try_from(r.p99.as_micros()).unwrap_or(i64::MAX)));
            last = latest;
        }
    }
}

/// Sends `total` messages, message `i` at `i / rate` seconds after the start, each stamped with
/// the microsecond it is handed to the producer. Returns the produce round trips' p99 per second.
fn produce_at_rate(bootstrap: &str, topic: &str, rate: u64, total: u64) -> Vec<i64> {
    let producer: BaseProducer<RoundTrips> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS.to_string())
        .set("linger.ms", PRODUCER_LINGER_MS)
        .create_with_context(RoundTrips::default())
        .unwrap_or_else(|e| fail(&e.to_string()));
    let started = Instant::now();
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let key = format!("probe-{}", i % 10_000);
        let payload = format!(r#"{{"id": "{key}", "sent_us": {}}}"#, now_us());
        send(
            &producer,
            BaseRecord::to(topic)
                .key(key.as_str())
                .payload(payload.as_str()),
        );
        producer.poll(Duration::ZERO);
    }
    let _ = producer.flush(Duration::from_secs(60));
    producer.context().p99_us()
}

/// (d): latency percentiles at the fixed rate, of (a) and of (b).
pub fn measure(self_path: &Path, bootstrap: &str, args: &Args) {
    for (variant, label) in [
        ("latency-a", "(a) hand-written loop"),
        ("latency", "(b) chalk-streams"),
    ] {
        let fields = run_self(
            self_path,
            &[
                "--variant".into(),
                variant.into(),
                "--bootstrap".into(),
                bootstrap.into(),
                "--messages".into(),
                "0".into(),
                "--partitions".into(),
                args.partitions.to_string(),
                "--rate".into(),
                args.rate.to_string(),
                "--latency-seconds".into(),
                args.latency_seconds.to_string(),
            ],
        );
        let [p50, p99, p999, count, ref round_trips @ ..] = fields[..] else {
            fail(&format!("the latency run printed {fields:?}"));
        };
        let (fetch_p99_us, produce_p99_us) = split_lists(round_trips)
            .unwrap_or_else(|| fail(&format!("the latency run printed {fields:?}")));
        println!(
            "(d) latency, produce to result, {label}, {} msg/s for {} s ({count} messages; \
             producer batches {PRODUCER_LINGER_MS} ms, fetch wait {FETCH_WAIT_MS} ms): \
             p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
            args.rate,
            args.latency_seconds,
            p50 / 1000.0,
            p99 / 1000.0,
            p999 / 1000.0
        );
        if !fetch_p99_us.is_empty() {
            println!(
                "    broker's answer to a fetch, p99 of each second (ms): {}",
                in_ms(fetch_p99_us)
            );
        }
        println!(
            "    broker's answer to a produce request, p99 of each second (ms): {}",
            in_ms(produce_p99_us)
        );
    }
}

/// Splits `n1 x1..xn1 n2 y1..yn2` into its two lists.
fn split_lists(fields: &[f64]) -> Option<(&[f64], &[f64])> {
    let (&first_len, rest) = fields.split_first()?;
    let (first, rest) = rest.split_at_checked(first_len as usize)?;
    let (&second_len, second) = rest.split_first()?;
    (second.len() == second_len as usize).then_some((first, second))
}
