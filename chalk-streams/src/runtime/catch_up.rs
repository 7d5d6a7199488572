//! A window worker's replay after it is assigned a partition. Commits stay below the first
//! message of every kept window, so a new owner (after a restart or a rebalance) reads those
//! windows' messages again, in batches. Fired after each batch, a window that had ended would
//! store an output of only part of its messages, with the same feature time as its complete
//! output, which it would replace; and judged by a clock that moves on during the replay, a
//! window could expire before its later messages are read again. So until the worker has read
//! what the partition held when it started, no window fires or expires, and the lateness of
//! those messages is judged at its start; then the ended windows fire once, whole.
//!
//! The lateness of the messages the previous owner had read is judged at the time it had read
//! them, which its commit's read mark tells (see `window::mark`): a window that had not fired
//! when the previous owner stopped, and that ended more than the deadline before this worker
//! started (a stop longer than the deadline), is rebuilt and fires. The rest of the replay
//! (messages that came while no worker ran, or that a crashed owner read after its last commit)
//! is judged at this worker's start; a window that one of them is then late for does not fire
//! after the replay, as part of its messages would replace the output it may have had.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

use super::partition::{KafkaConsumer, PartitionTask};
use super::window::dead_lettered::DeadLettered;
use super::window::mark::{Read, ReadMark};
use super::window_marks::metadata_of;
use crate::message::Timestamp;

/// How long the partition may have no message ready, once the replay has delivered one, before
/// the replay counts as read: its last offsets may be transaction markers, which are never
/// delivered. Before the first message nothing counts: the first fetch may take seconds (a
/// connection to a distant broker), and until a message is read there is no window to fire.
pub(super) const CATCH_UP_IDLE: Duration = Duration::from_secs(5);

/// How long a worker waits for the partition's end offset (and for the committed offset's read
/// mark) before it does without: its replay then goes to the end of the previous owner's mark,
/// or, without one, it has no replay phase.
const END_OFFSET_TIMEOUT: Duration = Duration::from_secs(10);

/// A worker's replay: to the partition's end offset when it started (or, that offset unknown, to
/// the end of the previous owner's mark).
#[derive(Debug, Clone)]
pub(super) struct CatchUp {
    /// The offset after the last message the partition held at the start (or, that offset
    /// unknown, the last the previous owner's mark covers).
    end: i64,
    /// When the worker started: the lateness of the replay's messages is judged at this time,
    /// but for those that `inherited` covers.
    started: Timestamp,
    /// What the previous owners had read, and when (their commit's read mark).
    inherited: ReadMark,
}

impl CatchUp {
    /// The replay of a worker starting at `now`; `None` when the partition is empty, or its end
    /// offset could not be had and no mark of the previous owner says how far it read (logged:
    /// windows then fire after each batch of the replay).
    pub(super) async fn begin(task: &PartitionTask, now: Timestamp) -> Option<Self> {
        let (stream, partition) = (task.name(), task.partition);
        // Two requests, to different brokers (the partition's leader, the group's coordinator):
        // made at once.
        let watermarks = tokio::task::spawn_blocking({
            let (consumer, topic) = (Arc::clone(&task.consumer), task.topic.to_string());
            move || consumer.fetch_watermarks(&topic, partition, END_OFFSET_TIMEOUT)
        });
        let inherited = tokio::task::spawn_blocking({
            let (consumer, topic) = (Arc::clone(&task.consumer), task.topic.to_string());
            move || committed_mark(&consumer, stream, &topic, partition)
        });
        let (watermarks, inherited) = tokio::join!(watermarks, inherited);
        match (watermarks, inherited.ok().flatten()) {
            (Ok(Ok((low, high))), inherited) => (high > low).then(|| Self {
                end: high,
                started: now,
                // Committed past the partition's end, the mark is of a topic since made anew:
                // none of its messages was read.
                inherited: inherited
                    .filter(|(next, _)| *next <= high)
                    .map(|(_, mark)| mark)
                    .unwrap_or_default(),
            }),
            // Without the end, the replay is at least what the previous owner had read: its
            // messages are still judged when it read them, and their windows fire once they
            // are read again, whole. (Judged now, a window that had not fired when it stopped
            // would be found late, for good.)
            (Ok(Err(error)), Some((_, inherited))) if inherited.covered_to().is_some() => {
                let end = inherited.covered_to()?;
                tracing::warn!(stream, topic = %task.topic, partition, %error, end, "cannot read the partition's end offset: the replay goes to the end of what the previous owner had read");
                Some(Self {
                    end,
                    started: now,
                    inherited,
                })
            }
            (Ok(Err(error)), _) => {
                tracing::warn!(stream, topic = %task.topic, partition, %error, "cannot read the partition's end offset: windows the replay finds ended fire after each batch, on part of their messages until it is read");
                None
            }
            (Err(_), _) => None,
        }
    }

    /// Whether the mark this worker commits while replaying may say `stopped` when its
    /// partition is given up: not when the previous owner's did not (it may have read past its
    /// mark, and no window fires before the replay is read). With no mark, nothing was read.
    pub(super) fn stops_cleanly(&self) -> bool {
        self.inherited.is_stopped() || self.inherited.covered_to().is_none()
    }

    /// The mark to commit while the replay lasts: the previous owners' reads, then this
    /// worker's start for the rest of the replay. After a crash, only the previous owners'
    /// reads: what the crashed owner may have read past them stays unsure for the next owner,
    /// as it is for this one.
    pub(super) fn mark(&self) -> ReadMark {
        if self.stops_cleanly() {
            self.inherited.then(Read {
                read_to: self.end,
                at: self.started,
            })
        } else {
            self.inherited.clone()
        }
    }

    /// The messages the previous owners dead-lettered as bad input (failing to decode, or too
    /// far ahead), which the replay reads again.
    pub(super) fn dead_lettered(&self) -> DeadLettered {
        self.inherited.dead().clone()
    }

    /// Whether the worker has read to the end, its last handled offset being `last_seen`;
    /// `idle` when the partition had no message ready for [`CATCH_UP_IDLE`].
    pub(super) fn read(&self, last_seen: Option<i64>, idle: bool) -> bool {
        last_seen.is_some_and(|offset| idle || offset + 1 >= self.end)
    }
}

/// The offset committed for the partition, with the read mark it carries, if any.
fn committed_mark(
    consumer: &KafkaConsumer,
    stream: &str,
    topic: &str,
    partition: i32,
) -> Option<(i64, ReadMark)> {
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition(topic, partition);
    let committed = match consumer.committed_offsets(wanted, END_OFFSET_TIMEOUT) {
        Ok(committed) => committed,
        Err(error) => {
            tracing::warn!(stream, topic, partition, %error, "cannot read the committed offset's read mark: the replay is judged at this worker's start");
            return None;
        }
    };
    let element = committed.find_partition(topic, partition)?;
    let Offset::Offset(next) = element.offset() else {
        return None;
    };
    let Some(metadata) = metadata_of(&element) else {
        tracing::warn!(stream, topic, partition, "the committed offset's metadata is not UTF-8, so not a read mark: the replay is judged at this worker's start");
        return None;
    };
    let mark = ReadMark::from_metadata(&metadata)?.past(next);
    tracing::debug!(stream, topic, partition, next, %metadata, "the replay is judged by the committed read mark");
    Some((next, mark))
}

/// The times a batch is judged at: the clock's, and the one a message's lateness goes by (for
/// the messages of the replay, when they were first read, or the worker's start).
#[derive(Debug, Clone, Copy)]
pub(super) struct Times<'a> {
    /// The clock's time: a message without a timestamp takes it.
    pub(super) now: Timestamp,
    /// The replay, while it lasts.
    catch_up: Option<&'a CatchUp>,
}

impl<'a> Times<'a> {
    /// The times at `now`, while `catch_up` (if any) lasts.
    pub(super) fn at(now: Timestamp, catch_up: Option<&'a CatchUp>) -> Self {
        Self { now, catch_up }
    }

    /// Whether the message at `offset` is of the replay, and past what the previous owners'
    /// marks cover without saying they stopped cleanly: a crashed owner may have read it, and
    /// put it in outputs.
    pub(super) fn unsure(&self, offset: i64) -> bool {
        self.catch_up.is_some_and(|catch_up| {
            offset < catch_up.end
                && !catch_up.inherited.is_stopped()
                && catch_up
                    .inherited
                    .covered_to()
                    .is_none_or(|covered| offset >= covered)
        })
    }

    /// The time the lateness of the message at `offset` is judged at: for a message the
    /// partition held at the worker's start (the replay), when a previous owner had read it, else
    /// the worker's start; the clock's for a later one, which the first reading could not have
    /// judged earlier (the replay may last until the first message comes, hours later when it
    /// had nothing to read).
    pub(super) fn judged(&self, offset: i64) -> Timestamp {
        match self.catch_up {
            Some(catch_up) if offset < catch_up.end => catch_up
                .inherited
                .judged(offset)
                .unwrap_or(catch_up.started),
            _ => self.now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caught_up_once_the_last_offset_the_partition_held_is_read_or_nothing_more_comes() {
        let catch_up = CatchUp {
            end: 10,
            started: Timestamp::from_millis(5),
            inherited: ReadMark::default(),
        };
        assert!(!catch_up.read(None, false));
        assert!(!catch_up.read(Some(8), false));
        assert!(catch_up.read(Some(9), false));
        assert!(catch_up.read(Some(12), false));
        assert!(
            catch_up.read(Some(8), true),
            "idle after a message: markers at the end"
        );
        assert!(
            !catch_up.read(None, true),
            "idle before any: the first fetch may be slow"
        );
    }

    #[test]
    fn the_replay_is_judged_at_the_start_and_what_came_after_it_at_the_clock() {
        let catch_up = CatchUp {
            end: 10,
            started: Timestamp::from_millis(5),
            inherited: ReadMark::default(),
        };
        let times = Times::at(Timestamp::from_millis(9_000), Some(&catch_up));
        assert_eq!(times.now, Timestamp::from_millis(9_000));
        assert_eq!(times.judged(0), Timestamp::from_millis(5));
        assert_eq!(
            times.judged(9),
            Timestamp::from_millis(5),
            "the last replayed"
        );
        assert_eq!(times.judged(10), times.now, "the first after the replay");
        let caught_up = Times::at(Timestamp::from_millis(9_000), None);
        assert_eq!(caught_up.judged(0), caught_up.now);
    }

    #[test]
    fn what_a_previous_owner_had_read_is_judged_when_it_read_it() {
        let catch_up = CatchUp {
            end: 10,
            started: Timestamp::from_millis(5_000),
            inherited: ReadMark::read(4, Timestamp::from_millis(1_000)),
        };
        let times = Times::at(Timestamp::from_millis(9_000), Some(&catch_up));
        assert_eq!(times.judged(3), Timestamp::from_millis(1_000));
        assert_eq!(
            times.judged(4),
            Timestamp::from_millis(5_000),
            "came while no worker ran"
        );
        assert_eq!(times.judged(10), times.now);
        assert_eq!(
            catch_up.mark(),
            catch_up.inherited,
            "after a crash, a stop mid-replay leaves the next owner the same mark"
        );
        let stopped = CatchUp {
            inherited: catch_up.inherited.clone().stopped(true),
            ..catch_up
        };
        assert_eq!(
            stopped.mark(),
            ReadMark::read(4, Timestamp::from_millis(1_000)).then(Read {
                read_to: 10,
                at: Timestamp::from_millis(5_000)
            }),
            "after a clean stop, it leaves the same judgement"
        );
    }

    /// Nothing came to the partition while no worker ran: its end is where the previous
    /// owner's mark ends. A stop mid-replay leaves the next owner the previous owner's times,
    /// not this worker's start, which would find a window that had not fired late, for good.
    #[test]
    fn a_replay_of_only_what_the_previous_owner_read_keeps_its_times() {
        let at = Timestamp::from_millis;
        let catch_up = CatchUp {
            end: 10,
            started: at(5_000),
            inherited: ReadMark::read(10, at(1_000)).stopped(true),
        };
        let mark = catch_up.mark();
        assert_eq!(mark.judged(9), Some(at(1_000)));
        assert_eq!(mark, ReadMark::read(10, at(1_000)));
    }

    #[test]
    fn past_a_mark_that_does_not_say_stopped_a_replayed_message_is_unsure() {
        let at = Timestamp::from_millis;
        let catch_up = |inherited: ReadMark| CatchUp {
            end: 10,
            started: at(5_000),
            inherited,
        };
        let crashed = catch_up(ReadMark::read(4, at(1_000)));
        let times = Times::at(at(9_000), Some(&crashed));
        assert!(!times.unsure(3), "covered by the mark");
        assert!(times.unsure(4), "maybe read after the last commit");
        assert!(!times.unsure(10), "after the replay");
        assert!(!crashed.stops_cleanly());
        let stopped = catch_up(ReadMark::read(4, at(1_000)).stopped(true));
        assert!(!Times::at(at(9_000), Some(&stopped)).unsure(4));
        assert!(stopped.stops_cleanly());
        let first = catch_up(ReadMark::default());
        assert!(first.stops_cleanly(), "no mark: nothing was read");
    }
}
