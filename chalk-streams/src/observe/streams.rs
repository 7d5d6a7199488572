//! A cheap, clonable view of the running streams' counters.

use std::sync::{Arc, OnceLock};

use crate::runtime::{RunningStreams, StreamStats};

/// Each stream's name and counters.
type Streams = Box<[(&'static str, Arc<StreamStats>)]>;

/// The counters of a set of running streams, by name: what the HTTP endpoints and the progress
/// log read. Cloning it is cheap (one reference count). A view made while the streams start
/// ([`starting`](Self::starting)) names them once they run, so the endpoints can answer during
/// start-up.
#[derive(Debug, Clone)]
pub struct ObservedStreams {
    streams: Arc<OnceLock<Streams>>,
}

impl Default for ObservedStreams {
    /// No streams.
    fn default() -> Self {
        Self::new([])
    }
}

impl ObservedStreams {
    /// A view of these streams' counters, in this order.
    pub fn new(streams: impl IntoIterator<Item = (&'static str, Arc<StreamStats>)>) -> Self {
        Self {
            streams: Arc::new(OnceLock::from(streams.into_iter().collect::<Streams>())),
        }
    }

    /// A view of streams still starting: no stream and not ready until
    /// [`started`](Self::started) names them.
    pub fn starting() -> Self {
        Self {
            streams: Arc::new(OnceLock::new()),
        }
    }

    /// Names the running streams in a view made by [`starting`](Self::starting), and in its
    /// clones; a view that names its streams already keeps them.
    pub fn started(&self, running: &RunningStreams) {
        let _ = self.streams.set(Self::named(running).collect());
    }

    /// Whether the view names its streams (it was not made by `starting`, or they started).
    pub fn is_started(&self) -> bool {
        self.streams.get().is_some()
    }

    /// Each stream's name and live counters; none while starting.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Arc<StreamStats>)> + '_ {
        self.streams
            .get()
            .into_iter()
            .flat_map(|streams| streams.iter())
            .map(|(name, stats)| (*name, stats))
    }

    fn named(
        running: &RunningStreams,
    ) -> impl Iterator<Item = (&'static str, Arc<StreamStats>)> + '_ {
        running
            .names()
            .filter_map(|name| running.stats(name).map(|stats| (name, stats)))
    }

    /// The streams that own no partition now, and are not in a rebalance that took theirs
    /// (for at most [`REBALANCE_GRACE`](crate::runtime::REBALANCE_GRACE)): not ready.
    pub fn unassigned(&self) -> Vec<&'static str> {
        self.iter()
            .filter(|(_, stats)| stats.snapshot().assigned_partitions == 0 && !stats.rebalancing())
            .map(|(name, _)| name)
            .collect()
    }

    /// The streams that read nothing more from some partition until a restart: a partition
    /// worker stopped on a panic, or the consumer ended on a fatal error. Not ready.
    pub fn stalled(&self) -> Vec<&'static str> {
        self.iter()
            .filter(|(_, stats)| {
                stats.snapshot().stalled_partitions > 0 || stats.fatal_error().is_some()
            })
            .map(|(name, _)| name)
            .collect()
    }

    /// The streams with a partition waiting for the feature store or the dead-letter topic to
    /// be back. They stay ready: the wait ends by itself when the dependency is back, and a
    /// restart would not shorten it.
    pub fn waiting(&self) -> Vec<&'static str> {
        self.iter()
            .filter(|(_, stats)| stats.snapshot().waiting_partitions > 0)
            .map(|(name, _)| name)
            .collect()
    }
}

impl From<&RunningStreams> for ObservedStreams {
    fn from(running: &RunningStreams) -> Self {
        Self::new(Self::named(running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rebalance_that_took_the_partitions_keeps_a_stream_ready_until_it_assigns() {
        let stats = Arc::new(StreamStats::default());
        let streams = ObservedStreams::new([("orders", Arc::clone(&stats))]);
        assert_eq!(streams.unassigned(), ["orders"], "nothing assigned yet");
        stats.record_rebalance_started();
        assert_eq!(
            streams.unassigned(),
            ["orders"],
            "a process that owned nothing stays"
        );
        stats.record_rebalance_ended();

        stats.record_assignment(true);
        assert!(streams.unassigned().is_empty());
        stats.record_rebalance_started();
        stats.record_assignment(false);
        assert!(
            streams.unassigned().is_empty(),
            "between the revoke and the assign"
        );
        stats.record_rebalance_ended();
        assert_eq!(
            streams.unassigned(),
            ["orders"],
            "the rebalance gave it none"
        );
    }
}
