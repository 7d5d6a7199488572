//! What a replay did, printed when it ends.

use std::collections::BTreeMap;

use crate::dlq::HEADER_SOURCE_TOPIC;

/// What a replay did, printed when it ends.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub(super) stream: String,
    pub(super) dlq_topic: String,
    /// The replay's consumer group, whose offsets move past every letter read.
    pub(super) group: String,
    pub(super) dry_run: bool,
    /// Letters sent (or, in a dry run, that would be), per destination topic.
    pub(super) replayed: BTreeMap<String, u64>,
    /// Where the originals of the letters without payload are: topic, partition, offset.
    pub(super) dropped: Vec<(String, String, String)>,
    /// Letters whose source topic is not one of the stream's: that topic, and where the letter
    /// is (dead-letter partition and offset).
    pub(super) not_a_source: Vec<(String, i32, i64)>,
    /// Letters the brokers refused for good, skipped with `--skip-failed`.
    pub(super) refused: Vec<Refused>,
    pub(super) other_streams: u64,
    pub(super) without_source: u64,
    pub(super) limit_reached: Option<u64>,
}

impl Report {
    /// Whether any letter was handled: sent, or skipped for a reason worth saying.
    pub(super) fn is_empty(&self) -> bool {
        self.replayed.is_empty()
            && self.dropped.is_empty()
            && self.not_a_source.is_empty()
            && self.refused.is_empty()
            && self.other_streams == 0
            && self.without_source == 0
    }
}

/// A letter of this stream passed over, for the report.
pub(super) enum Skipped {
    /// Its payload was dropped: where the original is.
    Dropped((String, String, String)),
    /// Its source topic is not one of the stream's: that topic, and where the letter is.
    NotASource((String, i32, i64)),
    /// The brokers refused it for good (`--skip-failed`).
    Refused(Refused),
    /// It names no source topic.
    WithoutSource,
}

impl Skipped {
    /// Lists it in `report`.
    pub(super) fn record(self, report: &mut Report) {
        match self {
            Skipped::Dropped(original) => report.dropped.push(original),
            Skipped::NotASource(letter) => report.not_a_source.push(letter),
            Skipped::Refused(refused) => report.refused.push(refused),
            Skipped::WithoutSource => report.without_source += 1,
        }
    }
}

/// A letter the brokers refused for good, skipped with `--skip-failed`.
#[derive(Debug)]
pub(super) struct Refused {
    /// The topic it was sent back to.
    pub(super) target: String,
    /// Where the letter is in the dead-letter topic.
    pub(super) partition: i32,
    pub(super) offset: i64,
    /// Why it was refused, as librdkafka reports it.
    pub(super) error: String,
}

/// "it stays" or "they stay", as `n` letters do.
fn they_stay(n: u64) -> &'static str {
    if n == 1 {
        "it stays"
    } else {
        "they stay"
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let letters = |n: u64| format!("{n} letter{}", if n == 1 { "" } else { "s" });
        let total: u64 = self.replayed.values().sum();
        let targets = self
            .replayed
            .iter()
            .map(|(topic, n)| format!("{topic}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let targets = if targets.is_empty() {
            String::new()
        } else {
            format!(" ({targets})")
        };
        let (stream, dlq) = (&self.stream, &self.dlq_topic);
        if self.dry_run {
            writeln!(
                f,
                "dry run: would replay {} of stream `{stream}` from `{dlq}`{targets}; nothing sent or committed",
                letters(total)
            )?;
        } else {
            writeln!(
                f,
                "replayed {} of stream `{stream}` from `{dlq}`{targets}",
                letters(total)
            )?;
        }
        if !self.dropped.is_empty() {
            let n = self.dropped.len() as u64;
            writeln!(
                f,
                "skipped {} whose payload was dropped; the originals are in their source topics:",
                letters(n)
            )?;
            for (topic, partition, offset) in &self.dropped {
                writeln!(f, "  {topic} partition {partition} offset {offset}")?;
            }
        }
        if !self.not_a_source.is_empty() {
            let n = self.not_a_source.len() as u64;
            writeln!(
                f,
                "skipped {} whose source topic is not one of the stream's; {} in `{dlq}`:",
                letters(n),
                they_stay(n)
            )?;
            for (topic, partition, offset) in &self.not_a_source {
                writeln!(f, "  from `{topic}`: partition {partition} offset {offset}")?;
            }
        }
        if !self.refused.is_empty() {
            let n = self.refused.len() as u64;
            writeln!(
                f,
                "skipped {} that the brokers refused; {} in `{dlq}`:",
                letters(n),
                they_stay(n)
            )?;
            for refused in &self.refused {
                let Refused {
                    target,
                    partition,
                    offset,
                    error,
                } = refused;
                writeln!(
                    f,
                    "  to `{target}`: partition {partition} offset {offset}: {error}"
                )?;
            }
        }
        if self.other_streams > 0 {
            writeln!(
                f,
                "left {} of other streams alone",
                letters(self.other_streams)
            )?;
        }
        if self.without_source > 0 {
            writeln!(
                f,
                "skipped {} without a {HEADER_SOURCE_TOPIC} header",
                letters(self.without_source)
            )?;
        }
        let skipped = self.dropped.len() + self.not_a_source.len() + self.refused.len();
        if !self.dry_run && (skipped > 0 || self.without_source > 0) {
            writeln!(
                f,
                "the replay's group `{}` is past the letters skipped: a later replay reads them \
                 again only once the group's offsets are reset",
                self.group
            )?;
        }
        if let Some(limit) = self.limit_reached {
            writeln!(
                f,
                "stopped at --limit {limit}; later letters stay for the next replay"
            )?;
        }
        Ok(())
    }
}
