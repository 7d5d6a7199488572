//! `GET /streams`: the JSON status of each stream.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::Json;

use super::ObservedStreams;
use crate::runtime::{StatsSnapshot, StreamStats};

/// One stream's status, as `GET /streams` returns it (a JSON array of these).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct StreamStatus {
    /// The stream's name.
    pub name: String,
    /// Partitions this process owns now.
    pub assigned_partitions: u64,
    /// The stream's counters.
    pub counters: StatsSnapshot,
    /// Per partition, the offset stored for commit and the consumer lag, where known.
    pub partitions: Vec<PartitionStatus>,
    /// How long each broker took to answer over librdkafka's last statistics window.
    pub brokers: Vec<BrokerStatus>,
}

/// A broker's round trips, in [`StreamStatus`]: see
/// [`BrokerRoundTrip`](crate::runtime::BrokerRoundTrip).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct BrokerStatus {
    /// The broker, as librdkafka names it (`host:port/id`).
    pub broker: String,
    /// Half of the requests were answered within this many milliseconds.
    pub p50_ms: f64,
    /// 99% of the requests were answered within this many milliseconds.
    pub p99_ms: f64,
    /// Requests answered in the window.
    pub requests: u64,
}

/// A partition of a stream, in [`StreamStatus`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PartitionStatus {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The next offset to read, as last handed to Kafka for commit (every message before it is
    /// done); absent before the first.
    pub stored_offset: Option<i64>,
    /// Messages behind the committed offset, from librdkafka's last statistics; absent when not
    /// known (partition not assigned, or no statistics yet).
    pub lag: Option<i64>,
}

impl StreamStatus {
    /// The status of stream `name` now.
    pub fn of(name: &str, stats: &StreamStats) -> Self {
        let counters = stats.snapshot();
        let stored = stats.stored_offsets();
        let lags = stats.consumer_lags();
        let keys: BTreeSet<&(String, i32)> = stored.keys().chain(lags.keys()).collect();
        let partitions = keys
            .into_iter()
            .map(|key| PartitionStatus {
                topic: key.0.clone(),
                partition: key.1,
                stored_offset: stored.get(key).copied(),
                lag: lags.get(key).copied(),
            })
            .collect();
        let milliseconds = |time: std::time::Duration| time.as_secs_f64() * 1000.0;
        let brokers = stats
            .broker_round_trips()
            .into_iter()
            .map(|(broker, round_trip)| BrokerStatus {
                broker,
                p50_ms: milliseconds(round_trip.p50),
                p99_ms: milliseconds(round_trip.p99),
                requests: round_trip.requests,
            })
            .collect();
        Self {
            name: name.to_owned(),
            assigned_partitions: counters.assigned_partitions,
            counters,
            partitions,
            brokers,
        }
    }
}

/// Every stream's status.
pub(super) async fn streams(State(streams): State<ObservedStreams>) -> Json<Vec<StreamStatus>> {
    Json(
        streams
            .iter()
            .map(|(name, stats)| StreamStatus::of(name, stats))
            .collect(),
    )
}
