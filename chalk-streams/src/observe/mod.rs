//! Observability of running streams: Prometheus metrics, health checks and a JSON status over
//! HTTP, and a periodic progress line per stream in the log.
//!
//! - [`ObservedStreams`] (`streams.rs`): a cheap, clonable view of the running streams' counters.
//! - [`serve`] and [`Server`] (`server.rs`): the HTTP server and its routes; [`bind`] and
//!   [`Listener`] bind the address first, before the streams start.
//! - `metrics.rs`: `GET /metrics`, the Prometheus (OpenMetrics) text exposition.
//! - `health.rs`: `GET /health/live`, `GET /health/ready` and `GET /health`.
//! - `status.rs`: `GET /streams`, the JSON status of each stream ([`StreamStatus`]).
//! - `progress.rs`: the progress line each stream logs at `info` (see
//!   [`Runtime::progress_interval`](crate::Runtime::progress_interval)).
//!
//! ```no_run
//! # async fn run() -> chalk_streams::Result<()> {
//! use chalk_streams::observe::{serve, ObservedStreams};
//!
//! let running = chalk_streams::Runtime::from_registry()?.start().await?;
//! let server = serve("127.0.0.1:9090".parse().unwrap(), ObservedStreams::from(&running)).await?;
//! println!("metrics on http://{}/metrics", server.local_addr());
//! running.run_until_signal().await
//! # }
//! ```

mod health;
mod metrics;
pub(crate) mod progress;
mod server;
mod status;
mod streams;

pub use server::{bind, serve, Listener, Server};
pub use status::{BrokerStatus, PartitionStatus, StreamStatus};
pub use streams::ObservedStreams;
