//! A partition's new worker and the earlier ones, aborted after a drain timeout, that may still
//! be running: when the last of them has ended (and dropped its handle on the partition's queue,
//! which switches the queue's wake-up off), the new worker takes a new handle.

use super::context::WorkerEnded;

/// Resolves once every earlier, aborted worker of the partition has ended (never, if there is
/// none), and forgets them. It waits on clones: a wait cut short (another branch of a select
/// won) loses nothing, and an ended worker answers every clone.
pub(super) async fn predecessors_ended(predecessors: &mut Vec<WorkerEnded>) {
    if predecessors.is_empty() {
        return std::future::pending().await;
    }
    futures::future::join_all(predecessors.iter().cloned()).await;
    predecessors.clear();
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;
    use tokio::sync::oneshot;

    use super::*;

    fn worker() -> (oneshot::Sender<()>, WorkerEnded) {
        let (ended, wait) = oneshot::channel();
        (ended, wait.shared())
    }

    #[test]
    fn waits_for_every_predecessor_and_a_wait_cut_short_forgets_none() {
        let (first, first_ended) = worker();
        let (second, second_ended) = worker();
        let mut predecessors = vec![first_ended, second_ended];

        // Each wait below is polled once and dropped, as when another branch of a select wins.
        assert!(predecessors_ended(&mut predecessors)
            .now_or_never()
            .is_none());
        first.send(()).expect("waited on");
        assert!(
            predecessors_ended(&mut predecessors)
                .now_or_never()
                .is_none(),
            "one predecessor is still running"
        );
        assert_eq!(predecessors.len(), 2);
        // An aborted task drops its sender without sending.
        drop(second);
        assert_eq!(
            predecessors_ended(&mut predecessors).now_or_never(),
            Some(())
        );
        assert!(predecessors.is_empty());
    }

    #[test]
    fn without_predecessors_it_never_resolves() {
        assert!(predecessors_ended(&mut Vec::new()).now_or_never().is_none());
    }
}
