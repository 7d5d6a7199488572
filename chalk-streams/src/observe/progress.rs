//! The progress line each stream logs at `info`, from the change of its counters since the last
//! line: `stream=orders rate=1234.5/s lag=12 late=0 failed=3`.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::ObservedStreams;
use crate::runtime::StatsSnapshot;

/// The task logging the progress lines; it stops when dropped.
pub(crate) struct ProgressLog {
    task: JoinHandle<()>,
}

impl ProgressLog {
    /// Logs every `every` for each of `streams`; `None` when `every` is zero, or too long to add
    /// to the clock (`Duration::MAX`).
    pub(crate) fn start(streams: ObservedStreams, every: Duration) -> Option<Self> {
        if every.is_zero() {
            return None;
        }
        let started = tokio::time::Instant::now();
        // An interval too long to add to the clock (`Duration::MAX`) would never log either.
        let first = started.checked_add(every)?;
        let task = tokio::spawn(async move {
            let mut last: Vec<StatsSnapshot> =
                streams.iter().map(|(_, stats)| stats.snapshot()).collect();
            let mut last_at = started;
            let mut ticks = tokio::time::interval_at(first, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let now = ticks.tick().await;
                let seconds = now.duration_since(last_at).as_secs_f64().max(f64::EPSILON);
                last_at = now;
                for ((name, stats), last) in streams.iter().zip(&mut last) {
                    let current = stats.snapshot();
                    let lag: i64 = stats.consumer_lags().values().sum();
                    let processed = current.processed.saturating_sub(last.processed);
                    tracing::info!(
                        "stream={name} rate={:.1}/s lag={lag} late={} failed={}",
                        processed as f64 / seconds,
                        current.skipped_late.saturating_sub(last.skipped_late),
                        current.failed.saturating_sub(last.failed),
                    );
                    *last = current;
                }
            }
        });
        Some(Self { task })
    }
}

impl Drop for ProgressLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_interval_too_long_for_the_clock_logs_nothing() {
        assert!(ProgressLog::start(ObservedStreams::default(), Duration::MAX).is_none());
        assert!(ProgressLog::start(ObservedStreams::default(), Duration::ZERO).is_none());
        assert!(ProgressLog::start(ObservedStreams::default(), Duration::from_secs(30)).is_some());
    }
}
