//! The broker's round trips during a latency run, from librdkafka's statistics: how long the
//! broker took to answer each fetch and each produce request, one p99 per second of the run. They
//! show how much of an end-to-end figure the broker alone accounts for.

use std::sync::Mutex;

use chalk_streams::runtime::BrokerRoundTrip;
use rdkafka::consumer::ConsumerContext;
use rdkafka::message::DeliveryResult;
use rdkafka::producer::ProducerContext;
use rdkafka::{ClientContext, Statistics};

/// How often librdkafka reports, and so the span each p99 covers.
pub const STATISTICS_INTERVAL_MS: u64 = 1000;

/// A client context that keeps the p99 round trip to the broker of each statistics window.
#[derive(Default)]
pub struct RoundTrips {
    p99_us: Mutex<Vec<i64>>,
}

impl RoundTrips {
    /// The p99 of each window that saw a request, in microseconds, oldest first.
    pub fn p99_us(&self) -> Vec<i64> {
        self.p99_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ClientContext for RoundTrips {
    fn stats(&self, statistics: Statistics) {
        // Read as chalk-streams reads its own consumer's, so that (a) and (b) compare.
        let windows = BrokerRoundTrip::from_statistics(&statistics);
        let mut p99_us = self.p99_us.lock().unwrap_or_else(|e| e.into_inner());
        p99_us.extend(
            windows
                .values()
                .map(|rtt| i64::try_from(rtt.p99.as_micros()).unwrap_or(i64::MAX)),
        );
    }
}

impl ConsumerContext for RoundTrips {}

impl ProducerContext for RoundTrips {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

/// `p99_us` as milliseconds, for a line of the report.
pub fn in_ms(p99_us: &[f64]) -> String {
    p99_us
        .iter()
        .map(|us| format!("{:.1}", us / 1000.0))
        .collect::<Vec<_>>()
        .join(" ")
}
