//! What a window worker had read of its partition, and when: committed with its offset (as the
//! commit's metadata), so that the partition's next owner judges the lateness of the messages it
//! reads again at the time the previous owner had judged them, not at its own start. Without it,
//! a window that had not fired when its owner stopped, and that ended more than the deadline
//! before the next owner started, would have its messages skipped as late and never fire.
//!
//! A mark is a list of reads, by offset: "the messages before offset R had been judged by time
//! T". One read is enough for a worker that has caught up (it read up to R by now); a worker
//! still replaying carries its predecessor's reads on, then its own start (what its replay
//! judges at), so that a stop mid-replay loses nothing either. A mark committed as a partition
//! is given up says `stopped`: its owner read nothing past it. Without that (a periodic commit,
//! then a crash), the messages past it may have been read, and be in outputs. It also names the
//! messages its owners dead-lettered as bad input (failing to decode, or too far ahead; `dead=...`,
//! see `dead_lettered`).

use super::dead_lettered::DeadLettered;
#[cfg(test)]
use super::dead_lettered::MessageName;
use crate::message::Timestamp;

/// What the metadata of a commit with a mark starts with; anything else (another tool's
/// metadata, or none) is no mark.
const PREFIX: &str = "chalk-streams/window-reads/1";

/// At most this many reads are kept: a chain of owners stopping mid-replay would otherwise
/// grow the metadata (Kafka takes 4,096 bytes by default). Beyond it, the oldest two merge,
/// at the earlier time: more of the replay is then accepted as not late (a window may fire
/// again, with the same messages), rather than less. (A message is also refused as too far
/// ahead of the time it is judged at, so an earlier time refuses a little more: one stamped
/// nearly `Runtime::max_timestamp_lead` ahead when it was read may be dead-lettered on such a
/// replay.)
const MAX_READS: usize = 8;

/// One read: the messages before `read_to` had been judged by `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Read {
    pub read_to: i64,
    pub at: Timestamp,
}

/// A worker's reads, by ascending offset (and time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReadMark {
    reads: Vec<Read>,
    /// The messages its owners dead-lettered as bad input (failing to decode, or too
    /// far ahead).
    dead: DeadLettered,
    /// Whether its owner stopped cleanly after it, having read nothing past its last read.
    stopped: bool,
}

impl ReadMark {
    /// A mark of one read.
    pub(crate) fn read(read_to: i64, at: Timestamp) -> Self {
        Self {
            reads: vec![Read { read_to, at }],
            dead: DeadLettered::default(),
            stopped: false,
        }
    }

    /// The mark, naming `dead` as the messages its owners dead-lettered.
    pub(crate) fn with_dead(mut self, dead: DeadLettered) -> Self {
        self.dead = dead;
        self
    }

    /// The messages its owners dead-lettered as bad input (failing to decode, or too
    /// far ahead).
    pub(crate) fn dead(&self) -> &DeadLettered {
        &self.dead
    }

    /// The mark, saying whether its owner stopped cleanly after it.
    pub(crate) fn stopped(mut self, stopped: bool) -> Self {
        self.stopped = stopped;
        self
    }

    /// Whether its owner stopped cleanly after it.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// The offset after the last message it covers; `None` when it covers none.
    pub(crate) fn covered_to(&self) -> Option<i64> {
        self.reads.last().map(|read| read.read_to)
    }

    /// This mark followed by a later read, bounded to [`MAX_READS`]. The later read adds only
    /// the messages past those the mark covers: the ones it covers were judged when they were
    /// first read, and judging them again at the later read's time could make a window that
    /// had not fired late, and lost.
    pub(crate) fn then(&self, read: Read) -> Self {
        let mut reads = self.reads.clone();
        if self
            .covered_to()
            .is_none_or(|covered| read.read_to > covered)
        {
            reads.push(read);
        }
        while reads.len() > MAX_READS {
            let first = reads.remove(0);
            reads[0].at = first.at.min(reads[0].at);
        }
        Self {
            reads,
            dead: self.dead.clone(),
            stopped: false,
        }
    }

    /// Without the reads that end at or before `next` (the offset committed with it), nor the
    /// messages before it: those are not read again.
    pub(crate) fn past(mut self, next: i64) -> Self {
        self.reads.retain(|read| read.read_to > next);
        self.dead.past(next);
        self
    }

    /// The time the message at `offset` was judged by, if the mark covers it.
    pub(crate) fn judged(&self, offset: i64) -> Option<Timestamp> {
        self.reads
            .iter()
            .find(|read| offset < read.read_to)
            .map(|read| read.at)
    }

    /// The commit metadata that carries the mark.
    pub(crate) fn to_metadata(&self) -> String {
        let mut metadata = String::from(PREFIX);
        for read in &self.reads {
            metadata.push_str(&format!(" {}@{}", read.read_to, read.at.as_millis()));
        }
        if !self.dead.is_empty() {
            metadata.push_str(&format!(" dead={}", self.dead.to_metadata()));
        }
        if self.stopped {
            metadata.push_str(" stopped");
        }
        metadata
    }

    /// The mark a commit's metadata carries; `None` for any other metadata.
    pub(crate) fn from_metadata(metadata: &str) -> Option<Self> {
        let rest = metadata.strip_prefix(PREFIX)?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        let (rest, stopped) = match rest.strip_suffix(" stopped") {
            Some(reads) => (reads, true),
            None => (rest, false),
        };
        let (rest, dead) = match rest.rsplit_once(" dead=") {
            Some((reads, dead)) => (reads, DeadLettered::from_metadata(dead)?),
            None => (rest, DeadLettered::default()),
        };
        let mut reads: Vec<Read> = Vec::new();
        for read in rest.split_whitespace() {
            let (read_to, at) = read.split_once('@')?;
            let read = Read {
                read_to: read_to.parse().ok()?,
                at: Timestamp::from_millis(at.parse().ok()?),
            };
            // Out of order, it was not written by this module.
            if reads
                .last()
                .is_some_and(|last| last.read_to >= read.read_to)
            {
                return None;
            }
            reads.push(read);
        }
        Some(Self {
            reads,
            dead,
            stopped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    #[test]
    fn a_mark_goes_through_commit_metadata_unchanged() {
        let mark = ReadMark::read(10, ts(1_000)).then(Read {
            read_to: 25,
            at: ts(9_000),
        });
        let metadata = mark.to_metadata();
        assert_eq!(metadata, "chalk-streams/window-reads/1 10@1000 25@9000");
        assert_eq!(ReadMark::from_metadata(&metadata), Some(mark.clone()));
        let stopped = mark.clone().stopped(true);
        let metadata = stopped.to_metadata();
        assert_eq!(
            metadata,
            "chalk-streams/window-reads/1 10@1000 25@9000 stopped"
        );
        assert_eq!(ReadMark::from_metadata(&metadata), Some(stopped));
        assert_eq!(
            ReadMark::from_metadata(PREFIX),
            Some(ReadMark::default()),
            "no read"
        );
        let mut dead = DeadLettered::default();
        let (twelve, twenty) = (
            MessageName {
                offset: 12,
                timestamp: 4_000,
                content: 0xab,
            },
            MessageName {
                offset: 20,
                timestamp: -1,
                content: 0xcd,
            },
        );
        dead.insert(twelve);
        dead.insert(twenty);
        let with_dead = mark.with_dead(dead).stopped(true);
        let metadata = with_dead.to_metadata();
        assert_eq!(
            metadata,
            "chalk-streams/window-reads/1 10@1000 25@9000 dead=12@4000#000000ab,20@-1#000000cd stopped"
        );
        assert_eq!(ReadMark::from_metadata(&metadata), Some(with_dead.clone()));
        let past = with_dead.past(15);
        assert!(!past.dead().contains(&twelve) && past.dead().contains(&twenty));
    }

    #[test]
    fn other_metadata_is_no_mark() {
        for metadata in [
            "",
            "some other tool's note",
            "chalk-streams/window-reads/2 10@1000",
            "chalk-streams/window-reads/1x 10@1000",
            "chalk-streams/window-reads/1 10",
            "chalk-streams/window-reads/1 ten@1000",
            "chalk-streams/window-reads/1 25@1000 10@2000",
            "chalk-streams/window-reads/1 stopped 10@1000",
            "chalk-streams/window-reads/1 10@1000 dead=",
            "chalk-streams/window-reads/1 10@1000 dead=3@1",
            "chalk-streams/window-reads/1 10@1000 stopped dead=3@1#0",
        ] {
            assert_eq!(ReadMark::from_metadata(metadata), None, "{metadata:?}");
        }
    }

    #[test]
    fn each_message_is_judged_at_the_first_read_that_covers_it() {
        let mark = ReadMark::read(10, ts(1_000)).then(Read {
            read_to: 25,
            at: ts(9_000),
        });
        assert_eq!(mark.judged(0), Some(ts(1_000)));
        assert_eq!(mark.judged(9), Some(ts(1_000)));
        assert_eq!(mark.judged(10), Some(ts(9_000)));
        assert_eq!(mark.judged(24), Some(ts(9_000)));
        assert_eq!(mark.judged(25), None, "read after the mark");
        let committed_past_the_first = mark.past(10);
        assert_eq!(committed_past_the_first.judged(12), Some(ts(9_000)));
        assert_eq!(committed_past_the_first.past(25), ReadMark::default());
    }

    #[test]
    fn a_later_read_adds_only_what_it_reads_past_the_mark_and_the_oldest_merge_beyond_the_bound() {
        // Nothing came after the mark: its messages keep the time they were judged at.
        let mark = ReadMark::read(10, ts(1_000)).then(Read {
            read_to: 10,
            at: ts(2_000),
        });
        assert_eq!(mark, ReadMark::read(10, ts(1_000)));
        let stopped = ReadMark::read(10, ts(1_000)).stopped(true);
        assert_eq!(
            stopped.then(Read {
                read_to: 8,
                at: ts(2_000)
            }),
            ReadMark::read(10, ts(1_000)),
            "a later read never stops"
        );
        let mut long = ReadMark::default();
        for i in 1..=10 {
            long = long.then(Read {
                read_to: i * 10,
                at: ts(i * 1_000),
            });
        }
        assert_eq!(long.reads.len(), MAX_READS);
        assert_eq!(
            long.judged(0),
            Some(ts(1_000)),
            "merged reads keep the earlier time"
        );
        assert_eq!(long.judged(25), Some(ts(1_000)));
        assert_eq!(long.judged(35), Some(ts(4_000)));
        assert_eq!(long.judged(99), Some(ts(10_000)));
    }
}
