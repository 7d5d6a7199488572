//! A cheap, clonable view of the running streams' counters.

use std::sync::Arc;

use crate::runtime::{RunningStreams, StreamStats};

/// The counters of a set of running streams, by name: what the HTTP endpoints and the progress
/// log read. Cloning it is cheap (one reference count).
#[derive(Debug, Clone, Default)]
pub struct ObservedStreams {
    streams: Arc<[(&'static str, Arc<StreamStats>)]>,
}

impl ObservedStreams {
    /// A view of these streams' counters, in this order.
    pub fn new(streams: impl IntoIterator<Item = (&'static str, Arc<StreamStats>)>) -> Self {
        Self {
            streams: streams.into_iter().collect(),
        }
    }

    /// Each stream's name and live counters.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Arc<StreamStats>)> + '_ {
        self.streams.iter().map(|(name, stats)| (*name, stats))
    }

    /// The streams that own no partition now, and are not in a rebalance that took theirs
    /// (for at most [`REBALANCE_GRACE`](crate::runtime::REBALANCE_GRACE)): not ready.
    pub fn unassigned(&self) -> Vec<&'static str> {
        self.iter()
            .filter(|(_, stats)| stats.snapshot().assigned_partitions == 0 && !stats.rebalancing())
            .map(|(name, _)| name)
            .collect()
    }
}

impl From<&RunningStreams> for ObservedStreams {
    fn from(running: &RunningStreams) -> Self {
        Self::new(
            running
                .names()
                .filter_map(|name| running.stats(name).map(|stats| (name, stats))),
        )
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
