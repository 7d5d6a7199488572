//! What a replay did, printed when it ends.

use std::collections::BTreeMap;

use crate::dlq::HEADER_SOURCE_TOPIC;

/// What a replay did, printed when it ends.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub(super) stream: String,
    pub(super) dlq_topic: String,
    pub(super) dry_run: bool,
    /// Letters sent (or, in a dry run, that would be), per destination topic.
    pub(super) replayed: BTreeMap<String, u64>,
    /// Where the originals of the letters without payload are: topic, partition, offset.
    pub(super) dropped: Vec<(String, String, String)>,
    /// Letters whose source topic is not one of the stream's: that topic, and where the letter
    /// is (dead-letter partition and offset).
    pub(super) not_a_source: Vec<(String, i32, i64)>,
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
            && self.other_streams == 0
            && self.without_source == 0
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
                "skipped {} whose source topic is not one of the stream's; they stay in `{dlq}`:",
                letters(n)
            )?;
            for (topic, partition, offset) in &self.not_a_source {
                writeln!(f, "  from `{topic}`: partition {partition} offset {offset}")?;
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
        if let Some(limit) = self.limit_reached {
            writeln!(
                f,
                "stopped at --limit {limit}; later letters stay for the next replay"
            )?;
        }
        Ok(())
    }
}
