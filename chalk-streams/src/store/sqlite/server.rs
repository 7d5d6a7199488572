//! The connection's thread: it runs the jobs handles send, and writes the buffer of accepted
//! batches when it is due (see [`ConnectionThread`](super::thread::ConnectionThread)).

use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::pending::PendingFeatures;
use super::row_ids::RowIds;
use super::rows::{read_entities, upsert, upsert_pending, upsert_pending_each};
use super::thread::{Job, Shared, Written};
use super::{is_locked, unavailable};
use crate::features::FeatureRow;
use crate::store::{StoreError, WriteTicket};

/// The thread's side.
pub(super) struct Server {
    connection: Connection,
    row_ids: Option<RowIds>,
    shared: Arc<Shared>,
    /// What the flush under way took from the buffer (kept to reuse its room).
    taken: PendingFeatures,
    flush_interval: Duration,
    /// Delays before retrying a failed flush, and when, while flushes fail.
    retry: Option<(ExponentialBackoff, Instant)>,
}

impl Server {
    pub(super) fn new(
        connection: Connection,
        row_ids: Option<RowIds>,
        shared: Arc<Shared>,
        flush_interval: Duration,
    ) -> Self {
        Self {
            connection,
            row_ids,
            shared,
            taken: PendingFeatures::default(),
            flush_interval,
            retry: None,
        }
    }

    /// The thread's loop. A panic inside SQLite code becomes an error for that job, and the
    /// rows go back to the caller all the same: nothing lent here is ever lost.
    pub(super) fn serve(mut self, queue: mpsc::Receiver<Job>) {
        // However the loop ends, writers stop handing batches to a thread that is gone.
        let _stopped = Stopped(Arc::clone(&self.shared));
        let mut next = None;
        let mut just_flushed = false;
        loop {
            let due = self.next_flush();
            if due.is_some_and(|at| at <= Instant::now()) && !just_flushed {
                // Before the next job: a queue that is never empty (reads one after another)
                // would otherwise put the timed flush off for ever, as a receive returns a
                // waiting job even past its deadline. Then one job at least, should the next
                // flush be due already (writers refill the buffer while one is written).
                let _ = self.flush();
                just_flushed = true;
                continue;
            }
            just_flushed = false;
            let job = match (next.take(), due) {
                (Some(job), _) => Ok(job),
                (None, Some(at)) => {
                    queue.recv_timeout(at.saturating_duration_since(Instant::now()))
                }
                (None, None) => queue
                    .recv()
                    .map_err(|mpsc::RecvError| mpsc::RecvTimeoutError::Disconnected),
            };
            match job {
                Ok(Job::Write { rows, reply }) => next = self.write(rows, reply, &queue),
                Ok(Job::Flush { reply }) => {
                    // Flushes asked for together (stopping workers) share one attempt.
                    let mut replies = vec![reply];
                    while let Ok(job) = queue.try_recv() {
                        match job {
                            Job::Flush { reply } => replies.push(reply),
                            // The deadline is worked out again after the flush.
                            Job::Wake => {}
                            other => {
                                next = Some(other);
                                break;
                            }
                        }
                    }
                    let flushed = self.flush().map_err(not_yours);
                    for reply in replies {
                        let _ = reply.send(flushed.clone());
                    }
                }
                Ok(Job::Read { filter, reply }) => {
                    let filter = filter.as_ref().map(|(n, k)| (n.as_str(), k.as_str()));
                    let result = panic_as_error(|| {
                        let mut entities = read_entities(&self.connection, filter)?;
                        // Nothing is being written meanwhile: flushes run on this thread.
                        self.shared.lock().features.overlay(filter, &mut entities);
                        Ok(entities)
                    });
                    let _ = reply.send(result);
                }
                Ok(Job::Wake) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = self.flush();
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.last_flush();
                    return;
                }
            }
        }
    }

    /// When the buffer is to be written next, if anything waits in it.
    fn next_flush(&self) -> Option<Instant> {
        let state = self.shared.lock();
        if state.features.is_empty() {
            None
        } else if let Some((_, at)) = &self.retry {
            Some(*at)
        } else if state.features.len() >= self.shared.max_pending {
            Some(Instant::now())
        } else {
            state
                .since
                .and_then(|since| since.checked_add(self.flush_interval))
        }
    }

    /// Writes a durable batch, with the other durable batches already waiting (one transaction
    /// and one fsync for all of them), after what waits in the buffer. Returns the job that
    /// came after them, which waits for them.
    fn write(
        &mut self,
        rows: Vec<FeatureRow>,
        reply: oneshot::Sender<Written>,
        queue: &mpsc::Receiver<Job>,
    ) -> Option<Job> {
        let mut writes = vec![(rows, reply)];
        let mut next = None;
        while let Ok(job) = queue.try_recv() {
            match job {
                Job::Write { rows, reply } => writes.push((rows, reply)),
                Job::Wake => {}
                other => {
                    next = Some(other);
                    break;
                }
            }
        }
        match self.flush() {
            Ok(()) => write_together(&mut self.connection, self.row_ids.as_mut(), writes),
            Err(error) => {
                let error = not_yours(error);
                for (rows, reply) in writes {
                    let _ = reply.send((rows, Err(error.clone())));
                }
            }
        }
        next
    }

    /// Writes what waits in the buffer in one transaction. On success the durable mark moves
    /// to the last batch accepted before; on failure the features go back into the buffer and
    /// the next attempt waits a growing delay.
    fn flush(&mut self) -> Result<(), StoreError> {
        let ticket = {
            let mut state = self.shared.lock();
            if state.features.is_empty() {
                // Every ticket given is written: a ticket is given only for values taken in,
                // and a failed flush puts them back.
                return Ok(());
            }
            std::mem::swap(&mut state.features, &mut self.taken);
            state.since = None;
            state.accepted
        };
        // The buffer has room again: writers waiting for it go on during the write.
        self.shared.durable.send_modify(|_| {});
        let Self {
            connection,
            row_ids,
            taken,
            ..
        } = self;
        let mut result = panic_as_error(|| upsert_pending(connection, taken, row_ids.as_mut()));
        if let Err(StoreError::Rejected(_)) = &result {
            // Not seen: what SQLite refuses is refused when handed over (`check_row`). Were a
            // feature refused anyway, the others are written and it is logged, rather than
            // every stream on the store waiting for ever.
            result = panic_as_error(|| upsert_pending_each(connection, taken, row_ids.as_mut()))
                .map(|refused| {
                    for (feature, error) in refused {
                        tracing::error!(feature, %error, "SQLite refused a feature accepted earlier; it is not stored, and its message is committed past");
                    }
                });
        }
        match &result {
            Ok(()) => {
                self.taken.clear();
                self.retry = None;
                self.shared.lock().failing = None;
                self.shared.durable.send_replace(WriteTicket::new(ticket));
            }
            Err(error) => {
                let features = self.taken.len();
                let mut state = self.shared.lock();
                state.features.put_back(&mut self.taken);
                state.since.get_or_insert_with(Instant::now);
                state.failing = Some(match error {
                    StoreError::Unavailable(why) => why.clone(),
                    other => other.to_string(),
                });
                drop(state);
                let (delays, at) = self.retry.get_or_insert_with(|| {
                    let delays = ExponentialBuilder::default()
                        .with_min_delay(Duration::from_millis(50))
                        .with_max_delay(Duration::from_secs(30))
                        .with_jitter()
                        .without_max_times()
                        .build();
                    (delays, Instant::now())
                });
                let retry_in = delays.next().unwrap_or(Duration::from_secs(30));
                *at = Instant::now() + retry_in;
                tracing::warn!(%error, features, ?retry_in, "writing the features accepted failed; they are kept and their offsets are not committed until they are written");
                // Writers waiting for room learn that the store is failing.
                self.shared.durable.send_modify(|_| {});
            }
        }
        result
    }

    /// Writes what waits in the buffer as the store closes.
    fn last_flush(&mut self) {
        if let Err(error) = self.flush() {
            let features = self.shared.lock().features.len();
            tracing::error!(%error, features, "the store closed with features it could not write; their offsets were not committed, so their messages are read again");
        }
    }
}

/// Marks the store's thread as gone when its loop ends, a panic included, and wakes writers
/// waiting for room.
struct Stopped(Arc<Shared>);

impl Drop for Stopped {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.durable.send_modify(|_| {});
    }
}

/// A failed flush, as the outcome of a job that did not bring those features: the store is
/// unavailable for it, whatever the cause.
fn not_yours(error: StoreError) -> StoreError {
    match error {
        StoreError::Unavailable(_) => error,
        other => unavailable(format!(
            "features accepted earlier cannot be written: {other}"
        )),
    }
}

/// Writes several batches in one transaction. If that fails, nothing of it is kept and each
/// batch is written alone, so that each caller learns its own batch's outcome (one refused
/// row fails its own batch, not its neighbours'). If a batch finds the file locked alone as
/// well (another process holds its lock past the busy timeout), so would the rest, and they
/// are told at once: trying each would hold the thread, and every read and flush behind it, a
/// busy timeout per batch. Other failures of a batch alone may be its own: the rest are tried.
fn write_together(
    connection: &mut Connection,
    mut row_ids: Option<&mut RowIds>,
    writes: Vec<(Vec<FeatureRow>, oneshot::Sender<Written>)>,
) {
    let together = (writes.len() > 1).then(|| {
        let batches: Vec<&[FeatureRow]> = writes.iter().map(|(rows, _)| rows.as_slice()).collect();
        panic_as_error(|| upsert(connection, &batches, row_ids.as_deref_mut()))
    });
    let mut locked: Option<StoreError> = None;
    for (rows, reply) in writes {
        let result = match (&together, &locked) {
            (Some(Ok(())), _) => Ok(()),
            (_, Some(error)) => Err(error.clone()),
            _ => {
                let alone = panic_as_error(|| upsert(connection, &[&rows], row_ids.as_deref_mut()));
                locked = alone.clone().err().filter(is_locked);
                alone
            }
        };
        // A caller that stopped waiting has no use for the rows.
        let _ = reply.send((rows, result));
    }
}

/// Runs `work`; a panic in it becomes an error, so that the thread lives on.
fn panic_as_error<T>(work: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    std::panic::catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(unavailable("SQLite code panicked")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::store::int_row;
    use crate::store::sqlite::SqliteStore;

    /// Times SQLite found the file locked, on connections that count them.
    static FOUND_LOCKED: AtomicUsize = AtomicUsize::new(0);

    fn count_and_give_up(_tries: i32) -> bool {
        FOUND_LOCKED.fetch_add(1, Ordering::Relaxed);
        false
    }

    #[test]
    fn batches_unavailable_together_and_alone_are_not_each_tried() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("features.sqlite");
        drop(SqliteStore::open(&path).expect("a store file"));
        let mut connection = Connection::open(&path).expect("open");
        connection
            .busy_handler(Some(count_and_give_up))
            .expect("a busy handler");
        let other = Connection::open(&path).expect("open");
        other.execute_batch("BEGIN IMMEDIATE").expect("locked");

        let (writes, replies): (Vec<_>, Vec<_>) = (0..4)
            .map(|i| {
                let (reply, replied) = oneshot::channel();
                let rows = vec![int_row(&format!("u{i}"), &[("n", i)], 10)];
                ((rows, reply), replied)
            })
            .unzip();
        write_together(&mut connection, None, writes);
        for mut replied in replies {
            let (_, result) = replied.try_recv().expect("answered");
            assert!(
                matches!(&result, Err(StoreError::Unavailable(why)) if why.contains("locked")),
                "{result:?}"
            );
        }
        assert_eq!(
            FOUND_LOCKED.load(Ordering::Relaxed),
            2,
            "tried together, then the first batch alone"
        );

        other.execute_batch("ROLLBACK").expect("unlocked");
        let (reply, mut replied) = oneshot::channel();
        let (first, second) = (
            int_row("u1", &[("n", 1)], 10),
            int_row("u2", &[("n", 2)], 10),
        );
        let (reply_2, mut replied_2) = oneshot::channel();
        write_together(
            &mut connection,
            None,
            vec![(vec![first], reply), (vec![second], reply_2)],
        );
        assert!(replied.try_recv().expect("answered").1.is_ok());
        assert!(replied_2.try_recv().expect("answered").1.is_ok());
    }
}
