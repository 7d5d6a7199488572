//! `GET /metrics`: every stream's counters, latency histogram, consumer lag and brokers' round
//! trips in the Prometheus (OpenMetrics) text format, read from the live counters at each scrape.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::ObservedStreams;
use crate::runtime::{BrokerRoundTrip, LatencySnapshot, StatsSnapshot};

/// The content type of the exposition.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A registry holding the streams' collector.
pub(super) fn registry(streams: ObservedStreams) -> Registry {
    let mut registry = Registry::with_prefix("chalk_stream");
    registry.register_collector(Box::new(StreamsCollector { streams }));
    registry
}

/// Encodes `registry` for a scrape.
pub(super) async fn metrics(State(registry): State<Arc<Registry>>) -> Response {
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, &registry) {
        Ok(()) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// One stream's numbers, read once per scrape.
struct Reading {
    name: &'static str,
    counters: StatsSnapshot,
    latency: LatencySnapshot,
    lags: Vec<(String, i32, i64)>,
    round_trips: BTreeMap<String, BrokerRoundTrip>,
}

/// Reads every stream's counters at each scrape.
#[derive(Debug)]
struct StreamsCollector {
    streams: ObservedStreams,
}

/// The per-stream counters: (name without prefix and `_total`, help, value).
type CounterOf = fn(&StatsSnapshot) -> u64;
const COUNTERS: [(&str, &str, CounterOf); 9] = [
    (
        "messages_processed",
        "Messages whose outputs are stored.",
        |s| s.processed,
    ),
    (
        "messages_skipped_late",
        "Messages skipped as older than the late-arrival deadline.",
        |s| s.skipped_late,
    ),
    (
        "messages_failed",
        "Messages that failed (parse, resolver or store), dead-lettered or not.",
        |s| s.failed,
    ),
    (
        "messages_dead_lettered",
        "Failed messages acknowledged by the dead-letter topic.",
        |s| s.dead_lettered,
    ),
    (
        "rows_written",
        "Feature rows written to the store (or accepted, to be written behind).",
        |s| s.rows_written,
    ),
    (
        "retries",
        "Store or dead-letter writes that failed and were retried.",
        |s| s.retries,
    ),
    (
        "windows_fired",
        "Window firings whose rows were written.",
        |s| s.windows_fired,
    ),
    (
        "windows_failed",
        "Window firings whose resolver failed or whose output the store refused.",
        |s| s.windows_failed,
    ),
    (
        "windows_withheld",
        "Windows not fired after a replay, a message of theirs read before a crash being late now.",
        |s| s.windows_withheld,
    ),
];

/// The per-stream gauges: (name without prefix, help, value).
const GAUGES: [(&str, &str, CounterOf); 5] = [
    (
        "windows_retained",
        "Windows currently held in memory.",
        |s| s.windows_retained,
    ),
    (
        "assigned_partitions",
        "Partitions this process currently owns.",
        |s| s.assigned_partitions,
    ),
    (
        "stalled_partitions",
        "Assigned partitions from which nothing is read: their worker stopped on a panic, or their fetches are refused.",
        |s| s.stalled_partitions,
    ),
    (
        "waiting_partitions",
        "Assigned partitions whose worker waits for the feature store or the dead-letter topic \
         to be back: nothing past the messages in hand is read or committed meanwhile.",
        |s| s.waiting_partitions,
    ),
    (
        "consumer_failed",
        "1 once the stream's consumer has ended on a fatal error (a fenced group.instance.id, \
         say): it reads nothing more, and the process should be restarted.",
        |s| s.consumer_failed,
    ),
];

impl Collector for StreamsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let readings: Vec<Reading> = self
            .streams
            .iter()
            .map(|(name, stats)| Reading {
                name,
                counters: stats.snapshot(),
                latency: stats.latency(),
                lags: stats
                    .consumer_lags()
                    .into_iter()
                    .map(|((topic, partition), lag)| (topic, partition, lag))
                    .collect(),
                round_trips: stats.broker_round_trips(),
            })
            .collect();

        for (name, help, value) in COUNTERS {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for reading in &readings {
                let labels = [("stream", reading.name)];
                ConstCounter::new(value(&reading.counters))
                    .encode(metric.encode_family(&labels)?)?;
            }
        }
        for (name, help, value) in GAUGES {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for reading in &readings {
                let labels = [("stream", reading.name)];
                let value = i64::try_from(value(&reading.counters)).unwrap_or(i64::MAX);
                ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
            }
        }

        let mut metric = encoder.encode_descriptor(
            "processing_latency",
            "Time from a message's Kafka timestamp to its rows being written (window streams: to its entering its windows).",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for reading in &readings {
            let labels = [("stream", reading.name)];
            let buckets: Vec<(f64, u64)> = reading
                .latency
                .buckets
                .iter()
                .map(|&(bound, n)| (if bound.is_finite() { bound } else { f64::MAX }, n))
                .collect();
            metric
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(
                    reading.latency.sum_seconds,
                    reading.latency.count,
                    &buckets,
                    None,
                )?;
        }

        let mut metric = encoder.encode_descriptor(
            "consumer_lag",
            "Messages behind the committed offset per assigned partition, from librdkafka's statistics.",
            None,
            MetricType::Gauge,
        )?;
        for reading in &readings {
            for (topic, partition, lag) in &reading.lags {
                let partition = partition.to_string();
                let labels = [
                    ("stream", reading.name),
                    ("topic", topic.as_str()),
                    ("partition", partition.as_str()),
                ];
                ConstGauge::new(*lag).encode(metric.encode_family(&labels)?)?;
            }
        }

        let mut metric = encoder.encode_descriptor(
            "broker_round_trip",
            "How long each broker took to answer the consumer's requests (mostly fetches) over librdkafka's last statistics window, by quantile. A fetch waits at the broker for data up to fetch.wait.max.ms (100 ms, chalk-streams' default), so on a quiet topic this is near that wait; only a rise above it points at the broker.",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?;
        for reading in &readings {
            for (broker, round_trip) in &reading.round_trips {
                for (quantile, time) in [("0.5", round_trip.p50), ("0.99", round_trip.p99)] {
                    let labels = [
                        ("stream", reading.name),
                        ("broker", broker.as_str()),
                        ("quantile", quantile),
                    ];
                    ConstGauge::new(time.as_secs_f64()).encode(metric.encode_family(&labels)?)?;
                }
            }
        }
        Ok(())
    }
}
