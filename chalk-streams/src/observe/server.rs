//! The HTTP server: `/metrics`, `/health/live`, `/health/ready`, `/health` and `/streams`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::{oneshot, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio_io_timeout::TimeoutStream;

use super::{health, metrics, status, ObservedStreams};
use crate::error::Result;

/// How long [`Server::shutdown`] waits for open requests before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long a client has to send a request's headers. A connection that sends nothing, or its
/// headers a byte at a time, is closed: held for ever, enough of them would take every file
/// descriptor of the process, its Kafka connections' and store's included.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an answer may wait to be written. A client that stops reading (a stuck scraper
/// that pipelines its requests) is disconnected then: hyper has no deadline of its own for
/// writing, and enough such clients would take every connection slot, so that probes went
/// unanswered.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The most connections served at once; more wait to be accepted. Scrapers and probes need a
/// few.
const MAX_CONNECTIONS: usize = 64;

/// How long to wait before accepting again after a failed accept (out of file descriptors):
/// at once would spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// A running observability server. It stops when dropped or on [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// An address bound for the observability endpoints, not serving yet: bind it before the
/// streams start, so that a port already in use stops start-up before any consumer joins its
/// group, then [`serve`](Self::serve) the streams once they run.
#[derive(Debug)]
pub struct Listener {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

/// Binds `addr` (port 0 picks a free port; see [`Listener::local_addr`]).
pub async fn bind(addr: SocketAddr) -> Result<Listener> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("cannot listen on {addr} for metrics: {error}"),
        )
    })?;
    let addr = listener.local_addr()?;
    Ok(Listener { listener, addr })
}

/// Serves the observability endpoints of `streams` on `addr` (port 0 picks a free port; see
/// [`Server::local_addr`]):
///
/// - `GET /metrics`: Prometheus metrics (OpenMetrics text).
/// - `GET /health/live`: 200 while the process serves.
/// - `GET /health/ready` and `GET /health`: 200 once every stream owns a partition, else 503 with
///   a JSON body naming the streams that own none.
/// - `GET /streams`: a JSON array with each stream's counters, stored offsets and lag.
///
/// Returns once the address is bound; requests are served on the current Tokio runtime.
pub async fn serve(addr: SocketAddr, streams: ObservedStreams) -> Result<Server> {
    Ok(bind(addr).await?.serve(streams))
}

impl Listener {
    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves the endpoints of `streams` (see [`serve`]) on the current Tokio runtime.
    pub fn serve(self, streams: ObservedStreams) -> Server {
        let Self { listener, addr } = self;
        let registry = Arc::new(metrics::registry(streams.clone()));
        let app = Router::new()
            .route("/health/live", get(health::live))
            .route("/health/ready", get(health::ready))
            .route("/health", get(health::ready))
            .route("/streams", get(status::streams))
            .with_state(streams)
            .merge(
                Router::new()
                    .route("/metrics", get(metrics::metrics))
                    .with_state(registry),
            );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(accept(listener, app, stopped));
        tracing::info!(%addr, "observability endpoints: /metrics /health/live /health/ready /streams");
        Server {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }
}

/// Accepts connections until `stopped`, then waits for the open ones to end (which
/// [`Server::shutdown`] bounds). The connections' tasks belong to this one, so that aborting it
/// closes them too.
async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stopped: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut served = JoinSet::new();
    loop {
        // Ended connections' tasks are let go of here, so that the set stays small.
        while served.try_join_next().is_some() {}
        let permit = tokio::select! {
            _ = &mut stopped => break,
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "observability endpoints: cannot accept a connection");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
        };
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(
                TokioIo::new(Box::pin(stream)),
                TowerToHyperService::new(app.clone()),
            );
        let connection = graceful.watch(connection);
        served.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "observability endpoints: connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

impl Server {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections and waits (a few seconds at most) for open requests.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
                Ok(Ok(served)) => served?,
                Ok(Err(_)) => {}
                Err(_) => task.abort(),
            }
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
