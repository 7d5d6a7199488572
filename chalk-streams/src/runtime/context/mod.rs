//! The consumer context of a stream: starts a worker for each assigned partition, drains and
//! commits a partition's in-flight work before it is given up; its client callbacks (logs,
//! errors, statistics) are in `client`, its rebalance callbacks in `rebalance`.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use futures::future::Shared;
use futures::FutureExt;
use rdkafka::message::{Message as _, OwnedMessage};
use tokio::sync::watch;
use tracing::Instrument;

use super::log_limit::LogLimiter;
use super::partition::{Handoff, KafkaConsumer, PartitionTask};
use super::StreamShared;
use crate::caught::panic_text;

mod client;
mod given_up;
mod rebalance;
#[cfg(test)]
mod tests;

/// A partition: its topic and number.
pub(crate) type PartitionKey = (Arc<str>, i32);

/// Resolves (for every clone) when a worker's task has ended.
pub(crate) type WorkerEnded = Shared<tokio::sync::oneshot::Receiver<()>>;

/// A worker's state, as its panic guard, its fetches and the revocation see it.
pub(crate) const RUNNING: u8 = 0;
/// Stopped on a panic, counted in the stream's stalled partitions.
const STALLED: u8 = 1;
/// Its partition given up: no longer counted as stalled, whatever happens after.
const GIVEN_UP: u8 = 2;
/// Running, but its fetches refused (not authorized to read the topic): counted in the stream's
/// stalled partitions until a message comes again.
pub(crate) const REFUSED: u8 = 3;

/// A running partition worker.
struct Worker {
    stop: watch::Sender<bool>,
    /// Where messages fetched before the split are handed over; `None` once the worker is
    /// released, as it reads no more of them then.
    early: Option<tokio::sync::mpsc::UnboundedSender<OwnedMessage>>,
    /// Disconnects when the worker's task ends (or is aborted).
    finished: mpsc::Receiver<()>,
    /// The offset this process had stored for the partition when it was assigned (from an
    /// earlier ownership), so that only what this assignment stored is committed at its end.
    stored_at_start: Option<i64>,
    task: tokio::task::JoinHandle<()>,
    /// [`RUNNING`], [`STALLED`] (stopped on a panic), [`REFUSED`] or [`GIVEN_UP`].
    state: Arc<AtomicU8>,
    /// Resolves when the worker's task has ended, its queue handle dropped.
    ended: WorkerEnded,
}

/// The [`ConsumerContext`] of every stream's consumer.
pub(crate) struct StreamContext {
    shared: Arc<StreamShared>,
    consumer: OnceLock<Weak<KafkaConsumer>>,
    workers: Mutex<HashMap<PartitionKey, Worker>>,
    /// Go signals of workers started since the main queue was last drained.
    waiting: Mutex<Vec<(PartitionKey, tokio::sync::oneshot::Sender<()>)>>,
    /// Notified when partitions are assigned: the main queue must be drained, then the new
    /// workers released.
    assigned: tokio::sync::Notify,
    /// librdkafka repeats a failing connection's report on every retry: a few lines a minute.
    client_logs: Mutex<LogLimiter>,
    /// Held for every offset commit, so that no commit is in flight when another starts.
    commits: Mutex<()>,
    /// Workers aborted after the drain timeout, by partition, until they are seen to have
    /// ended: an abort takes effect only at the worker's next await, and a worker that ends
    /// drops its handle on the partition's queue, which switches off the wake-up of a newer
    /// handle. Every later worker of the partition renews its handle once they have ended,
    /// however many rebalances come between.
    aborted: Mutex<HashMap<PartitionKey, Vec<WorkerEnded>>>,
}

impl StreamContext {
    pub(crate) fn new(shared: Arc<StreamShared>) -> Self {
        Self {
            shared,
            consumer: OnceLock::new(),
            workers: Mutex::new(HashMap::new()),
            waiting: Mutex::new(Vec::new()),
            assigned: tokio::sync::Notify::new(),
            client_logs: Mutex::new(LogLimiter::new(Duration::from_secs(60), 10)),
            commits: Mutex::new(()),
            aborted: Mutex::new(HashMap::new()),
        }
    }

    /// Held while committing: commits of this stream happen one at a time.
    pub(crate) fn commit_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Gives the context its consumer, which it needs to split partition queues.
    pub(crate) fn attach(&self, consumer: &Arc<KafkaConsumer>) {
        let _ = self.consumer.set(Arc::downgrade(consumer));
    }

    pub(crate) fn name(&self) -> &'static str {
        self.shared.descriptor.name()
    }

    /// The offsets with read marks that a window stream's workers handed over.
    pub(crate) fn window_marks(&self) -> &super::window_marks::WindowMarks {
        &self.shared.window_marks
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, HashMap<PartitionKey, Worker>> {
        // A worker map is plain data: recover it even if a thread panicked holding the lock.
        self.workers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn start_worker(&self, topic: &str, partition: i32) {
        let Some(consumer) = self.consumer.get().and_then(Weak::upgrade) else {
            return;
        };
        let topic: Arc<str> = Arc::from(topic);
        // Before the split: a worker of this partition that ends after this look is a
        // predecessor, whose dropped queue handle turns off the wake-up of the queue split
        // below, so that the new worker must split it again once it has ended.
        let predecessors = self.still_running(&topic, partition);
        let Some(queue) = consumer.split_partition_queue(&topic, partition) else {
            tracing::error!(
                stream = self.name(),
                %topic,
                partition,
                "could not split the partition queue"
            );
            return;
        };
        let (stop, stop_rx) = watch::channel(false);
        let (finished_tx, finished) = mpsc::channel::<()>();
        let (go, go_rx) = tokio::sync::oneshot::channel();
        let (ended_tx, ended) = tokio::sync::oneshot::channel::<()>();
        let ended = ended.shared();
        let (early, early_rx) = tokio::sync::mpsc::unbounded_channel();
        let stored_at_start = self.shared.stats.stored_offset(&topic, partition);
        let mark_epoch = self
            .shared
            .window_marks
            .open(&(Arc::clone(&topic), partition));
        let state = Arc::new(AtomicU8::new(RUNNING));
        let task = PartitionTask {
            state: Arc::clone(&state),
            resume_from: stored_at_start,
            mark_epoch,
            shared: Arc::clone(&self.shared),
            consumer,
            queue: Some(queue),
            predecessors,
            topic: Arc::clone(&topic),
            partition,
            stop: stop_rx,
            handoff: Handoff {
                go: go_rx,
                early: early_rx,
            },
        };
        let span = tracing::info_span!("stream", stream = self.name(), %topic, partition);
        let worker_state = Arc::clone(&state);
        let stats = Arc::clone(&self.shared.stats);
        let stop_requested = task.stop.clone();
        let task = self.shared.handle.spawn(
            async move {
                // Dropped last, when the task ends or is aborted: after the worker and its
                // queue handle.
                let _finished = (finished_tx, ended_tx);
                // Resolver panics are the message's failure (see `guard`); this is any other,
                // in a store or in chalk-streams itself. Restarting the worker would meet the
                // same message again, so the partition stops, loudly: an error, a gauge, and
                // the stream not ready, until the partition is assigned again.
                let stalled = match AssertUnwindSafe(task.run()).catch_unwind().await {
                    Err(panic) => {
                        tracing::error!(
                            panic = panic_text(panic.as_ref()),
                            "the partition's worker panicked: nothing more is read from this \
                             partition until it is assigned again (restart the process); its \
                             committed offset stays before the messages in hand"
                        );
                        true
                    }
                    // Ended unasked: it lost its queue (`renew_queue` says so), and stalls
                    // the partition as a panic does.
                    Ok(()) => !*stop_requested.borrow(),
                };
                // Counted once, and only while the partition is still this worker's.
                if stalled
                    && worker_state
                        .compare_exchange(RUNNING, STALLED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                {
                    stats.record_stall(true);
                }
            }
            .instrument(span),
        );
        tracing::info!(stream = self.name(), %topic, partition, "partition assigned");
        self.shared.stats.record_assignment(true);
        self.workers().insert(
            (Arc::clone(&topic), partition),
            Worker {
                stop,
                early: Some(early),
                finished,
                stored_at_start,
                task,
                state,
                ended,
            },
        );
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(((topic, partition), go));
    }

    /// The aborted workers of a partition not yet seen to have ended, forgetting those that
    /// have.
    fn still_running(&self, topic: &Arc<str>, partition: i32) -> Vec<WorkerEnded> {
        let mut aborted = self
            .aborted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (Arc::clone(topic), partition);
        let Some(workers) = aborted.get_mut(&key) else {
            return Vec::new();
        };
        workers.retain(|ended| ended.peek().is_none());
        let running = workers.clone();
        if running.is_empty() {
            aborted.remove(&key);
        }
        running
    }

    /// Every aborted worker not yet seen to have ended (one that has ended resolves at once).
    pub(crate) fn aborted_workers(&self) -> Vec<WorkerEnded> {
        self.aborted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// Resolves when partitions have been assigned since the last call.
    pub(crate) async fn assigned(&self) {
        self.assigned.notified().await;
    }

    /// Hands a message that arrived on the main queue to its partition's worker, if the worker
    /// has not been released yet (released, it reads its own queue only).
    pub(crate) fn hand_over(&self, message: OwnedMessage) {
        let key: PartitionKey = (Arc::from(message.topic()), message.partition());
        match self.workers().get(&key) {
            Some(Worker {
                early: Some(early), ..
            }) => {
                let _ = early.send(message);
            }
            // Not expected: librdkafka keeps a split queue split.
            Some(_) => tracing::error!(
                stream = self.name(),
                topic = %key.0,
                partition = key.1,
                offset = message.offset(),
                "message on the main queue after its partition's worker started: it is not \
                 processed in this assignment, and the offsets the worker commits may pass it"
            ),
            // Not ours any more: not processed, not committed; its next owner reads it.
            None => {
                tracing::debug!(stream = self.name(), topic = %key.0, partition = key.1, "message for a partition no longer assigned")
            }
        }
    }

    /// Lets the workers started since the last drain of the main queue begin.
    pub(crate) fn release_workers(&self) {
        let waiting = std::mem::take(
            &mut *self
                .waiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut workers = self.workers();
        for (key, go) in waiting {
            if let Some(worker) = workers.get_mut(&key) {
                worker.early = None;
            }
            let _ = go.send(());
        }
    }

    /// Stops the workers of `partitions` (all when `None`), letting each finish the batch in
    /// hand, for at most `timeout` in all. A worker still busy then is aborted: its messages were
    /// not committed and will be processed again.
    ///
    /// Returns the partitions whose workers it stopped, each with the offset stored for it
    /// before this assignment.
    pub(crate) fn stop_workers(
        &self,
        partitions: Option<&[PartitionKey]>,
        timeout: Duration,
    ) -> Vec<(PartitionKey, Option<i64>)> {
        let stopping: Vec<(PartitionKey, Worker)> = {
            let mut workers = self.workers();
            match partitions {
                None => workers.drain().collect(),
                Some(keys) => keys
                    .iter()
                    .filter_map(|k| workers.remove_entry(k))
                    .collect(),
            }
        };
        for ((topic, partition), worker) in &stopping {
            let _ = worker.stop.send(true);
            self.shared.stats.forget_consumer_lag(topic, *partition);
            self.shared.stats.record_assignment(false);
            if matches!(
                worker.state.swap(GIVEN_UP, Ordering::AcqRel),
                STALLED | REFUSED
            ) {
                self.shared.stats.record_stall(false);
            }
        }
        let deadline = Instant::now() + timeout.min(crate::runtime::clock::LONGEST_WAIT);
        let mut stopped = Vec::with_capacity(stopping.len());
        for ((topic, partition), worker) in stopping {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Err(mpsc::RecvTimeoutError::Timeout) = worker.finished.recv_timeout(left) {
                tracing::warn!(stream = self.name(), %topic, partition, ?timeout, "in-flight work did not finish in time; it will be processed again");
                worker.task.abort();
                self.aborted
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry((Arc::clone(&topic), partition))
                    .or_default()
                    .push(worker.ended);
            }
            stopped.push(((topic, partition), worker.stored_at_start));
        }
        stopped
    }
}
