//! Starting and stopping one stream: its consumer lives on a thread of its own, which polls the
//! consumer's main queue (rebalances, commits, errors) and may block in rebalance callbacks while
//! partition workers, on the shared runtime, finish their batches.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use tokio::sync::{oneshot, watch};

use super::commit::spawn_periodic_commits;
use super::context::StreamContext;
use super::log_limit::LogLimiter;
use super::partition::KafkaConsumer;
use super::StreamShared;
use crate::error::Error;
use crate::source::properties::AUTO_COMMIT_INTERVAL_MS;
use crate::source::KafkaProperties;

/// A started stream.
pub(crate) struct StreamHandle {
    pub shared: Arc<StreamShared>,
    shutdown: watch::Sender<bool>,
    stopped: oneshot::Receiver<()>,
}

impl StreamHandle {
    /// Creates the consumer, subscribes, and starts polling. Returns once the consumer exists
    /// and is subscribed, or with the client's error.
    pub(crate) async fn start(
        shared: Arc<StreamShared>,
        properties: KafkaProperties,
        topics: Vec<String>,
    ) -> Result<Self, Error> {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stopped_tx, stopped) = oneshot::channel();
        let thread_shared = Arc::clone(&shared);
        let name = shared.descriptor.name();
        std::thread::Builder::new()
            .name(format!("chalk:{}", shared.descriptor.name()))
            .spawn(move || {
                poll_thread(thread_shared, properties, topics, shutdown_rx, ready_tx);
                let _ = stopped_tx.send(());
            })
            .map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("cannot start the consumer thread of stream `{name}`: {e}"),
                ))
            })?;
        match ready_rx.await {
            Ok(Ok(())) => Ok(Self {
                shared,
                shutdown,
                stopped,
            }),
            Ok(Err(source)) => Err(Error::Client {
                stream: name.to_owned(),
                source,
            }),
            // Its runtime could not be built (logged there).
            Err(_) => Err(Error::Io(std::io::Error::other(format!(
                "the consumer thread of stream `{name}` ended during start-up"
            )))),
        }
    }

    /// Asks the stream to stop: finish in-flight batches, commit, leave the group.
    pub(crate) fn request_stop(&self) {
        let _ = self.shutdown.send(true);
    }

    /// The stream's name and what resolves once it has stopped.
    pub(crate) fn into_stopped(self) -> (&'static str, impl Future<Output = ()>) {
        let stopped = self.stopped;
        (self.shared.descriptor.name(), async move {
            // A dropped sender also means the thread has ended.
            let _ = stopped.await;
        })
    }
}

fn poll_thread(
    shared: Arc<StreamShared>,
    properties: KafkaProperties,
    topics: Vec<String>,
    mut shutdown: watch::Receiver<bool>,
    ready: oneshot::Sender<Result<(), rdkafka::error::KafkaError>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot build the consumer thread's runtime");
            return;
        }
    };
    let name = shared.descriptor.name();
    let drain_timeout = shared.drain_timeout;
    let commit_every = commit_interval(&properties);
    // Everything this thread logs (start, consumer errors, stop) belongs to the stream.
    let _span = tracing::info_span!("stream", stream = name).entered();
    runtime.block_on(async move {
        let context = StreamContext::new(Arc::clone(&shared));
        let consumer: KafkaConsumer =
            match properties.to_client_config().create_with_context(context) {
                Ok(consumer) => consumer,
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
        let consumer = Arc::new(consumer);
        consumer.context().attach(&consumer);
        let (stop_commits, commits_stop) = std::sync::mpsc::channel();
        let committer =
            match spawn_periodic_commits(Arc::clone(&consumer), commit_every, commits_stop) {
                Ok(committer) => committer,
                Err(error) => {
                    let _ = ready.send(Err(rdkafka::error::KafkaError::ClientCreation(format!(
                        "cannot start the offset commit thread: {error}"
                    ))));
                    return;
                }
            };
        let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        if let Err(error) = consumer.subscribe(&topic_refs) {
            let _ = ready.send(Err(error));
            return;
        }
        let _ = ready.send(Ok(()));
        tracing::info!(stream = name, topics = ?topics, "stream started");

        let mut errors = LogLimiter::new(Duration::from_secs(30), 5);
        let context = consumer.context();
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                () = context.assigned() => {
                    // Everything fetched before the new partitions' queues were split is on
                    // the main queue now: hand it to the workers, oldest first, then let them
                    // read their own queues.
                    drain_ready(|| consumer.recv(), |polled| match polled {
                        Ok(message) => context.hand_over(message.detach()),
                        Err(error) => consumer_error(&shared, &error, &mut errors),
                    });
                    context.release_workers();
                }
                // A message fetched before the split, when the poll that ran the assignment
                // returns it before the branch above runs; any later one is not expected.
                polled = consumer.recv() => match polled {
                    Ok(message) => context.hand_over(message.detach()),
                    Err(error) => consumer_error(&shared, &error, &mut errors),
                },
            }
        }

        tracing::info!(stream = name, "stopping: finishing in-flight batches");
        // The workers stop first: a periodic commit that waits on an unreachable coordinator
        // must not hold them up. Then the periodic commits end, so that the last commit below
        // is the last one made.
        let stopped = consumer.context().stop_workers(None, drain_timeout);
        drop(stop_commits);
        let _ = committer.join();
        consumer
            .context()
            .commit_partitions(consumer.as_ref(), &stopped);
        // Dropping the last handle closes the consumer: it leaves the group. This thread is not a
        // runtime worker, so the blocking close harms nobody; but an aborted worker still holds
        // a handle until its task has ended, and would close it on a runtime worker instead.
        let aborted = consumer.context().aborted_workers();
        if tokio::time::timeout(drain_timeout, futures::future::join_all(aborted))
            .await
            .is_err()
        {
            tracing::warn!(
                stream = name,
                "an aborted partition worker is still running: the consumer leaves the group \
                 when it ends"
            );
        }
        drop(consumer);
        tracing::info!(stream = name, "stream stopped");
    });
}

/// Logs a consumer error (rate-limited). A fatal one (a static member fenced by another with
/// its `group.instance.id`, say) has ended the consumer for good: it is logged as an error and
/// makes the stream not ready, so that the process gets restarted.
fn consumer_error(shared: &StreamShared, error: &KafkaError, log: &mut LogLimiter) {
    let name = shared.descriptor.name();
    if let KafkaError::MessageConsumptionFatal(_) = error {
        if shared.stats.fatal_error().is_none() {
            tracing::error!(stream = name, %error, "the consumer stopped for good: nothing more is read; restart the process");
            shared.stats.record_fatal_error(error.to_string());
        }
    } else if let Some(suppressed) = log.allow() {
        tracing::warn!(stream = name, %error, suppressed, "consumer error");
    }
}

/// How often stored offsets are committed: `auto.commit.interval.ms`, which chalk-streams sets
/// and `additional_kafka_args` may change (librdkafka's own automatic commit is off).
fn commit_interval(properties: &KafkaProperties) -> Duration {
    let ms = properties
        .get("auto.commit.interval.ms")
        // As librdkafka reads it: spaces around it are taken.
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .unwrap_or(AUTO_COMMIT_INTERVAL_MS);
    Duration::from_millis(ms)
}

/// Passes to `each` every output `next()`'s futures have ready now, and returns at the first
/// that is not. rdkafka's `recv` answers `Pending` both when the queue is empty and when its
/// poll served another event (an offset commit's result, a rebalance) ahead of the messages;
/// in the second case it wakes its task at once. So only a `Pending` without a wake means the
/// queue is empty: stopping at the first `Pending` would leave messages behind such an event.
fn drain_ready<F: Future>(mut next: impl FnMut() -> F, mut each: impl FnMut(F::Output)) {
    let woken = Arc::new(WakeFlag::default());
    let waker = Waker::from(Arc::clone(&woken));
    let mut context = Context::from_waker(&waker);
    loop {
        woken.0.store(false, Ordering::SeqCst);
        let future = pin!(next());
        match future.poll(&mut context) {
            Poll::Ready(output) => each(output),
            Poll::Pending if woken.0.load(Ordering::SeqCst) => {}
            Poll::Pending => return,
        }
    }
}

/// A waker that only records that it was woken.
#[derive(Default)]
struct WakeFlag(AtomicBool);

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn the_commit_interval_is_read_as_librdkafka_reads_it() {
        let interval = |value: &str| {
            let mut properties = KafkaProperties::default();
            properties.set("auto.commit.interval.ms", value);
            commit_interval(&properties)
        };
        assert_eq!(interval("5000 "), Duration::from_secs(5));
        assert_eq!(
            interval("0"),
            Duration::from_millis(AUTO_COMMIT_INTERVAL_MS)
        );
        assert_eq!(
            commit_interval(&KafkaProperties::default()),
            Duration::from_millis(AUTO_COMMIT_INTERVAL_MS)
        );
    }

    /// Ready with `value`, or pending; a pending one may wake its task first.
    enum Step {
        Ready(u32),
        PendingAndWoken,
        Pending,
    }

    struct Scripted(Option<Step>);

    impl Future for Scripted {
        type Output = u32;

        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            match self.0.take() {
                Some(Step::Ready(value)) => Poll::Ready(value),
                Some(Step::PendingAndWoken) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Some(Step::Pending) | None => Poll::Pending,
            }
        }
    }

    #[test]
    fn drains_past_events_and_stops_when_empty() {
        let script = [
            Step::PendingAndWoken,
            Step::Ready(1),
            Step::PendingAndWoken,
            Step::PendingAndWoken,
            Step::Ready(2),
            Step::Pending,
            Step::Ready(3),
        ];
        let mut script = script.into_iter();
        let polls = Cell::new(0);
        let mut drained = Vec::new();
        drain_ready(
            || {
                polls.set(polls.get() + 1);
                Scripted(script.next())
            },
            |value| drained.push(value),
        );
        assert_eq!(
            drained,
            [1, 2],
            "everything before the queue was found empty"
        );
        assert_eq!(polls.get(), 6, "nothing polled after an unwoken Pending");
    }
}
