//! A partition's new worker and the earlier ones, aborted after a drain timeout, that may still
//! be running: each of them that ends drops its handle on the partition's queue, which switches
//! the queue's wake-up off, so the new worker then takes a new handle.

use super::context::WorkerEnded;

/// Resolves once one of the earlier, aborted workers of the partition has ended (never, if
/// there is none), and forgets those that have. Not once all have: the first to end switches
/// the new worker's wake-up off, and waiting for the last would leave the partition unread
/// until then. It waits on clones: a wait cut short (another branch of a select won) loses
/// nothing, and an ended worker answers every clone.
pub(super) async fn predecessor_ended(predecessors: &mut Vec<WorkerEnded>) {
    if predecessors.is_empty() {
        return std::future::pending().await;
    }
    // Ended either way: its task finished (`Ok`) or was aborted (`Err`, the sender dropped).
    let _ended = futures::future::select_all(predecessors.iter().cloned()).await;
    predecessors.retain(|worker| worker.peek().is_none());
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
    fn resolves_as_each_predecessor_ends_and_a_wait_cut_short_forgets_none() {
        let (first, first_ended) = worker();
        let (second, second_ended) = worker();
        let mut predecessors = vec![first_ended, second_ended];

        // Each wait below is polled once and dropped, as when another branch of a select wins.
        assert!(predecessor_ended(&mut predecessors)
            .now_or_never()
            .is_none());
        assert_eq!(predecessors.len(), 2);
        first.send(()).expect("waited on");
        assert_eq!(
            predecessor_ended(&mut predecessors).now_or_never(),
            Some(()),
            "the first to end switched the queue's wake-up off"
        );
        assert_eq!(predecessors.len(), 1, "the other is still running");
        assert!(predecessor_ended(&mut predecessors)
            .now_or_never()
            .is_none());
        // An aborted task drops its sender without sending.
        drop(second);
        assert_eq!(
            predecessor_ended(&mut predecessors).now_or_never(),
            Some(())
        );
        assert!(predecessors.is_empty());
    }

    #[test]
    fn without_predecessors_it_never_resolves() {
        assert!(predecessor_ended(&mut Vec::new()).now_or_never().is_none());
    }
}
