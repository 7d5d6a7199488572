//! What a started runtime hands back: the running streams, and the signal that stops them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::stream::StreamHandle;
use super::StreamStats;
use crate::error::{Error, Result};
use crate::store::FeatureStore;

/// The running streams of a started [`Runtime`](super::Runtime).
pub struct RunningStreams {
    pub(super) streams: Vec<StreamHandle>,
    pub(super) store: Arc<dyn FeatureStore>,
    pub(super) shutdown_timeout: Duration,
    /// Logs each stream's progress line until dropped.
    pub(super) progress: Option<crate::observe::progress::ProgressLog>,
    /// Local copies of s3:// and gs:// keystores and CA files, removed when the streams stop.
    pub(super) remote_files: crate::source::remote::FetchedFiles,
}

impl RunningStreams {
    /// The names of the running streams.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.streams.iter().map(|s| s.shared.descriptor.name())
    }

    /// The live counters of stream `name`.
    pub fn stats(&self, name: &str) -> Option<Arc<StreamStats>> {
        self.streams
            .iter()
            .find(|s| s.shared.descriptor.name() == name)
            .map(|s| Arc::clone(&s.shared.stats))
    }

    /// The store the streams write to.
    pub fn store(&self) -> Arc<dyn FeatureStore> {
        Arc::clone(&self.store)
    }

    /// Where the private copies of the sources' `s3://` and `gs://` keystores and CA files are
    /// while the streams run; they are removed when the streams stop.
    pub fn remote_files(&self) -> impl Iterator<Item = &std::path::Path> + '_ {
        self.remote_files.paths()
    }

    /// Stops every stream: no new messages, in-flight batches finished and written, offsets
    /// committed, groups left; within the shutdown timeout.
    pub async fn shutdown(self) -> Result<()> {
        drop(self.progress);
        for stream in &self.streams {
            stream.request_stop();
        }
        let stops = self.streams.into_iter().map(StreamHandle::into_stopped);
        let late = not_stopped_within(stops, self.shutdown_timeout).await;
        if late.is_empty() {
            Ok(())
        } else {
            Err(Error::ShutdownTimeout {
                timeout: self.shutdown_timeout,
                streams: late.into_iter().map(str::to_owned).collect(),
            })
        }
    }

    /// Runs until SIGINT or SIGTERM, then shuts down cleanly.
    pub async fn run_until_signal(self) -> Result<()> {
        self.run_until(ShutdownSignal::install()?).await
    }

    /// Runs until `signal` arrives, then shuts down cleanly.
    pub async fn run_until(self, mut signal: ShutdownSignal) -> Result<()> {
        signal.recv().await;
        tracing::info!("shutdown requested");
        self.shutdown().await
    }
}

/// The names of the streams that have not stopped `timeout` from now. The streams stop at the
/// same time, so one deadline is given to all: `timeout` bounds the whole shutdown.
async fn not_stopped_within<F: Future<Output = ()>>(
    stops: impl IntoIterator<Item = (&'static str, F)>,
    timeout: Duration,
) -> Vec<&'static str> {
    let deadline = tokio::time::Instant::now() + timeout.min(super::clock::LONGEST_WAIT);
    let mut late = Vec::new();
    for (name, stopped) in stops {
        if tokio::time::timeout_at(deadline, stopped).await.is_err() {
            late.push(name);
        }
    }
    late
}

/// SIGINT (Ctrl-C) or SIGTERM, listened for from the moment [`ShutdownSignal::install`] is
/// called: install it before announcing readiness, so a signal that comes early is not lost.
pub struct ShutdownSignal {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Starts listening for SIGINT and SIGTERM (replacing their default action, which would end
    /// the process without a clean shutdown).
    pub fn install() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the signal; a wait cut short (another branch of a `select!` won) may be
    /// taken up again.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::not_stopped_within;

    /// Two streams that never stop: shutdown gives up once, at the timeout, not once per stream.
    #[tokio::test(start_paused = true)]
    async fn the_timeout_bounds_the_whole_shutdown() {
        let start = tokio::time::Instant::now();
        let timeout = Duration::from_secs(30);
        let stops = [
            ("a", std::future::pending::<()>()),
            ("b", std::future::pending()),
        ];
        assert_eq!(not_stopped_within(stops, timeout).await, ["a", "b"]);
        assert_eq!(start.elapsed(), timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn streams_that_stop_are_not_late() {
        // Each stream stops at its own time, whether or not it is being waited for.
        let start = tokio::time::Instant::now();
        let stopped = |after: u64| tokio::time::sleep_until(start + Duration::from_secs(after));
        let stops = [("a", stopped(10)), ("b", stopped(40)), ("c", stopped(20))];
        assert_eq!(
            not_stopped_within(stops, Duration::from_secs(30)).await,
            ["b"]
        );
    }
}
