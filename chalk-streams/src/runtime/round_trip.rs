//! How long each broker took to answer a client, from librdkafka's statistics.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::Statistics;

/// How long one broker took to answer the stream's consumer (mostly fetches; the group
/// coordinator's connection is not counted) over librdkafka's last statistics window: when
/// end-to-end latency grows, this says whether the broker is the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerRoundTrip {
    /// Half of the requests were answered within this.
    pub p50: Duration,
    /// 99% of the requests were answered within this.
    pub p99: Duration,
    /// Requests answered in the window.
    pub requests: u64,
}

impl BrokerRoundTrip {
    /// The round trips, by broker name, of each broker that answered a request in the window of
    /// `statistics`. The bootstrap connections and the group coordinator's (librdkafka's
    /// "logical" brokers) have no node id and are left out, so what is measured is mostly
    /// fetches (or, for a producer, produce requests).
    pub fn from_statistics(statistics: &Statistics) -> BTreeMap<String, Self> {
        let micros = |us: i64| Duration::from_micros(u64::try_from(us).unwrap_or(0));
        statistics
            .brokers
            .iter()
            .filter(|(_, broker)| broker.nodeid >= 0)
            .filter_map(|(name, broker)| {
                let rtt = broker.rtt.as_ref().filter(|rtt| rtt.cnt > 0)?;
                let round_trip = Self {
                    p50: micros(rtt.p50),
                    p99: micros(rtt.p99),
                    requests: u64::try_from(rtt.cnt).unwrap_or(0),
                };
                Some((name.clone(), round_trip))
            })
            .collect()
    }
}
