//! The thread that owns a SQLite store's connection. Every statement runs there, one job at a
//! time, so async workers never block on SQLite's file I/O and `fsync`, and a batch's rows are
//! lent to it rather than copied.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::row_ids::RowIds;
use super::rows::{read_entities, upsert};
use super::unavailable;
use crate::features::FeatureRow;
use crate::store::{Entity, StoreError};

/// A batch's rows, handed back with the write's outcome.
type Written = (Vec<FeatureRow>, Result<(), StoreError>);

/// What the connection's thread is asked to do.
enum Job {
    /// Upsert these rows in one transaction and hand them back.
    Write {
        rows: Vec<FeatureRow>,
        reply: oneshot::Sender<Written>,
    },
    /// Read one entity (`Some((namespace, key))`) or every entity (`None`).
    Read {
        filter: Option<(String, String)>,
        reply: oneshot::Sender<Result<Vec<Entity>, StoreError>>,
    },
}

/// The connection's thread; it ends when the last handle is dropped.
#[derive(Debug)]
pub(super) struct ConnectionThread {
    jobs: mpsc::Sender<Job>,
}

impl ConnectionThread {
    /// Moves `connection` to a thread of its own; `row_ids` if its table has row ids.
    pub(super) fn start(
        connection: Connection,
        row_ids: Option<RowIds>,
    ) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("chalk-sqlite".to_owned())
            .spawn(move || serve(connection, row_ids, queue))
            .map_err(|e| unavailable(format!("cannot start the SQLite thread: {e}")))?;
        Ok(Self { jobs })
    }

    /// Writes `rows`, then hands them back as they were, whatever the outcome.
    pub(super) async fn write(&self, rows: Vec<FeatureRow>) -> Written {
        let (reply, written) = oneshot::channel();
        if let Err(mpsc::SendError(job)) = self.jobs.send(Job::Write { rows, reply }) {
            let Job::Write { rows, .. } = job else {
                unreachable!("the job sent was a write")
            };
            return (rows, Err(unavailable("the SQLite thread has stopped")));
        }
        // The thread answers every job it takes, a panic included (see `serve`), and lives as
        // long as this handle. Were the rows lost anyway, going on would let the caller count
        // them as written; stopping the partition's worker keeps their offsets uncommitted.
        written
            .await
            .expect("the SQLite thread answers every write it takes")
    }

    /// Reads one entity or all of them.
    pub(super) async fn read(
        &self,
        filter: Option<(String, String)>,
    ) -> Result<Vec<Entity>, StoreError> {
        let (reply, read) = oneshot::channel();
        self.jobs
            .send(Job::Read { filter, reply })
            .map_err(|_| unavailable("the SQLite thread has stopped"))?;
        read.await
            .map_err(|_| unavailable("the SQLite thread has stopped"))?
    }
}

/// The thread's loop. A panic inside SQLite code becomes an error for that job, and the rows
/// go back to the caller all the same: nothing lent here is ever lost.
fn serve(mut connection: Connection, mut row_ids: Option<RowIds>, queue: mpsc::Receiver<Job>) {
    let mut next = queue.recv().ok();
    while let Some(job) = next.take() {
        match job {
            Job::Write { rows, reply } => {
                // Writes already waiting (other partitions' batches) join this one: one
                // transaction and one fsync for all of them. A read waits for them.
                let mut writes = vec![(rows, reply)];
                loop {
                    match queue.try_recv() {
                        Ok(Job::Write { rows, reply }) => writes.push((rows, reply)),
                        Ok(read) => {
                            next = Some(read);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                write_together(&mut connection, row_ids.as_mut(), writes);
            }
            Job::Read { filter, reply } => {
                let filter = filter.as_ref().map(|(n, k)| (n.as_str(), k.as_str()));
                let result = panic_as_error(|| read_entities(&connection, filter));
                let _ = reply.send(result);
            }
        }
        if next.is_none() {
            next = queue.recv().ok();
        }
    }
}

/// Writes several batches in one transaction. If that fails, nothing of it is kept and each
/// batch is written alone, so that each caller learns its own batch's outcome (one refused
/// row fails its own batch, not its neighbours').
fn write_together(
    connection: &mut Connection,
    mut row_ids: Option<&mut RowIds>,
    writes: Vec<(Vec<FeatureRow>, oneshot::Sender<Written>)>,
) {
    let together = (writes.len() > 1).then(|| {
        let batches: Vec<&[FeatureRow]> = writes.iter().map(|(rows, _)| rows.as_slice()).collect();
        panic_as_error(|| upsert(connection, &batches, row_ids.as_deref_mut()))
    });
    for (rows, reply) in writes {
        let result = match &together {
            Some(Ok(())) => Ok(()),
            _ => panic_as_error(|| upsert(connection, &[&rows], row_ids.as_deref_mut())),
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
