//! A handle on the thread that owns a SQLite store's connection (the thread's side is
//! `server`). Every statement runs there, one job at a time, so async workers never block on
//! SQLite's file I/O and `fsync`, and a batch's rows are lent to it rather than copied.
//!
//! Batches accepted for a later write wait in a buffer shared with the writers (see
//! [`PendingFeatures`](super::pending::PendingFeatures)); the thread writes them in one
//! transaction when the oldest has waited the flush interval, when the buffer is full, before a
//! durable write, and when the store is dropped. A read lays the buffer over what it read from
//! the file.

use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::{oneshot, watch};

use super::limits::check_row;
use super::pending::PendingState;
use super::row_ids::RowIds;
use super::server::Server;
use super::unavailable;
use crate::features::FeatureRow;
use crate::store::{DurableMark, Entity, StoreError, WriteTicket};

/// A batch's rows, handed back with the write's outcome.
pub(super) type Written = (Vec<FeatureRow>, Result<(), StoreError>);

/// How many features may wait for a flush; a batch that finds the buffer fuller waits for the
/// flush under way. About 40 MB for features of a short key and value, twice that while the
/// buffer fills again during a flush (each table keeps its room from one flush to the next).
const MAX_PENDING: usize = 1 << 18;

/// What the connection's thread is asked to do.
pub(super) enum Job {
    /// Upsert these rows in one transaction, durable when answered, and hand them back.
    Write {
        rows: Vec<FeatureRow>,
        reply: oneshot::Sender<Written>,
    },
    /// Write what waits in the buffer now.
    Flush {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Read one entity (`Some((namespace, key))`) or every entity (`None`).
    Read {
        filter: Option<(String, String)>,
        reply: oneshot::Sender<Result<Vec<Entity>, StoreError>>,
    },
    /// The buffer's first feature arrived, or the buffer is full: when to flush has changed.
    Wake,
}

/// What writers and the connection's thread share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) pending: Mutex<PendingState>,
    pub(super) durable: watch::Sender<WriteTicket>,
    /// How many features the buffer holds before writers wait ([`MAX_PENDING`]).
    pub(super) max_pending: usize,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, PendingState> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The connection's thread; it ends when the last handle is dropped.
#[derive(Debug)]
pub(super) struct ConnectionThread {
    jobs: mpsc::Sender<Job>,
    shared: Arc<Shared>,
    /// SQLite's limit on a string, a blob and a row, in bytes.
    max_length: usize,
}

impl ConnectionThread {
    /// Moves `connection` to a thread of its own; `row_ids` if its table has row ids. Accepted
    /// batches are written at the latest `flush_interval` after the first of them.
    pub(super) fn start(
        connection: Connection,
        row_ids: Option<RowIds>,
        flush_interval: Duration,
    ) -> Result<Self, StoreError> {
        Self::start_with_room(connection, row_ids, flush_interval, MAX_PENDING)
    }

    /// As [`start`](Self::start), with a buffer of `max_pending` features.
    fn start_with_room(
        connection: Connection,
        row_ids: Option<RowIds>,
        flush_interval: Duration,
        max_pending: usize,
    ) -> Result<Self, StoreError> {
        let max_length = connection
            .limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH)
            .map_err(super::classify)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let shared = Arc::new(Shared {
            pending: Mutex::default(),
            durable: watch::Sender::new(WriteTicket::DURABLE),
            max_pending,
        });
        let server = Server::new(connection, row_ids, Arc::clone(&shared), flush_interval);
        std::thread::Builder::new()
            .name("chalk-sqlite".to_owned())
            .spawn(move || server.serve(queue))
            .map_err(|e| unavailable(format!("cannot start the SQLite thread: {e}")))?;
        Ok(Self {
            jobs,
            shared,
            max_length: usize::try_from(max_length).unwrap_or(0),
        })
    }

    /// Writes `rows`, then hands them back as they were, whatever the outcome. Features
    /// accepted before are written first.
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

    /// Takes the rows' keys and values into the buffer, to be written with others; returns the
    /// batch's ticket. Refuses at once what SQLite would refuse; while writing the buffer
    /// fails, says why the store is unavailable (the rows as they were), so that the caller
    /// waits as for any store that is down. A full buffer waits for the flush under way.
    pub(super) async fn accept(&self, rows: &mut [FeatureRow]) -> Result<WriteTicket, StoreError> {
        for row in rows.iter() {
            check_row(row, self.max_length)?;
        }
        if rows.iter().all(|row| row.values.is_empty()) {
            // Nothing to write, but the batches accepted before to wait for: they may hold
            // the rows of these very messages, taken from an earlier read of them (a worker
            // of the partition before a rebalance) and not written yet.
            let state = self.shared.lock();
            if state.stopped {
                return Err(unavailable("the SQLite thread has stopped"));
            }
            return Ok(WriteTicket::new(state.accepted));
        }
        loop {
            let mut flushed = self.shared.durable.subscribe();
            {
                let mut state = self.shared.lock();
                if let Some(why) = &state.failing {
                    return Err(unavailable(why));
                }
                if state.stopped {
                    return Err(unavailable("the SQLite thread has stopped"));
                }
                if state.features.len() < self.shared.max_pending {
                    let was_empty = state.features.is_empty();
                    for row in rows.iter_mut() {
                        state.features.accept(row);
                    }
                    state.accepted += 1;
                    if was_empty {
                        state.since = Some(Instant::now());
                    }
                    let ticket = WriteTicket::new(state.accepted);
                    let full = state.features.len() >= self.shared.max_pending;
                    drop(state);
                    if was_empty || full {
                        // Were the thread gone, it would have said so in `stopped`, which
                        // it sets under this lock.
                        let _ = self.jobs.send(Job::Wake);
                    }
                    return Ok(ticket);
                }
            }
            if flushed.changed().await.is_err() {
                return Err(unavailable("the SQLite thread has stopped"));
            }
        }
    }

    /// The newest ticket whose batch is durable.
    pub(super) fn durable_mark(&self) -> DurableMark {
        self.shared.durable.subscribe()
    }

    /// Writes what waits in the buffer.
    pub(super) async fn flush(&self) -> Result<(), StoreError> {
        let (reply, flushed) = oneshot::channel();
        self.jobs
            .send(Job::Flush { reply })
            .map_err(|_| unavailable("the SQLite thread has stopped"))?;
        flushed
            .await
            .map_err(|_| unavailable("the SQLite thread has stopped"))?
    }

    /// Reads one entity or all of them, with what waits in the buffer laid over the file.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValue;
    use crate::message::Timestamp;

    fn row(key: &str) -> FeatureRow {
        FeatureRow {
            namespace: "user",
            primary_key: key.to_owned(),
            values: vec![("color", FeatureValue::String("red".to_owned()))],
            time: Timestamp::from_millis(10),
        }
    }

    fn rows_in(connection: &Connection) -> i64 {
        connection
            .query_row("SELECT COUNT(*) FROM features", [], |row| row.get(0))
            .expect("count")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_finding_the_buffer_full_goes_on_once_a_flush_makes_room() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("features.sqlite");
        let connection = Connection::open(&path).expect("open");
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;")
            .expect("settings");
        connection
            .execute_batch(super::super::SCHEMA)
            .expect("schema");
        let an_hour = Duration::from_secs(3600);
        let store = Arc::new(
            ConnectionThread::start_with_room(connection, None, an_hour, 2).expect("started"),
        );
        let mut mark = store.durable_mark();
        // Another connection holds the write lock: a flush waits in SQLite's busy handler.
        let other = Connection::open(&path).expect("open");
        other.execute_batch("BEGIN IMMEDIATE").expect("locked");

        let first = store.accept(&mut [row("a"), row("b")]).await.expect("a, b");
        mark.changed()
            .await
            .expect("the full buffer's flush took it");
        let second = store.accept(&mut [row("c"), row("d")]).await.expect("c, d");
        let writer = Arc::clone(&store);
        let mut third = tokio::spawn(async move { writer.accept(&mut [row("e")]).await });
        // A bound on something that must not happen: e cannot be answered while the lock holds
        // the flush up, unless it is refused at once.
        assert!(
            tokio::time::timeout(Duration::from_millis(200), &mut third)
                .await
                .is_err(),
            "the buffer is full again: e waits"
        );

        other.execute_batch("ROLLBACK").expect("unlocked");
        let third = tokio::time::timeout(Duration::from_secs(30), third)
            .await
            .expect("e goes on once a flush makes room (bounded here at 30 s)")
            .expect("joined")
            .expect("e accepted");
        assert!(first < second && second < third);
        // c and d are written too (e may have been answered before or after).
        tokio::time::timeout(
            Duration::from_secs(30),
            mark.wait_for(|mark| second.is_durable_at(*mark)),
        )
        .await
        .expect("a, b, c, d written (bounded here at 30 s)")
        .expect("the store lives");
        assert_eq!(rows_in(&other), 4);
        store.flush().await.expect("flushed");
        assert!(third.is_durable_at(*mark.borrow()));
        assert_eq!(rows_in(&other), 5);
    }
}
