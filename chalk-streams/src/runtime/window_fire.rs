//! Firing a partition's due windows: their resolver runs, and their outputs are written.

use super::log_limit::LogLimiter;
use super::partition::PartitionTask;
use super::stats::StatsSnapshot;
use super::window::{WindowBook, WindowId};
use super::window_resolver::WindowResolver;
use crate::message::{RawMessage, Timestamp};
use crate::resolver::Phase;

/// The most windows whose outputs one store write carries.
const WINDOWS_PER_WRITE: usize = 1_024;

impl PartitionTask {
    /// Fires the windows due at `now`, writing the outputs of [`WINDOWS_PER_WRITE`] at a time:
    /// after a replay, every window that ended during it is due at once (a day of windows of
    /// many keys), and one write of them all would hold every row in memory.
    pub(super) async fn fire_due(
        &self,
        book: &mut WindowBook,
        resolver: WindowResolver,
        now: Timestamp,
        counts: &mut StatsSnapshot,
        log: &mut LogLimiter,
    ) {
        for due in book.due(now).chunks(WINDOWS_PER_WRITE) {
            self.fire(due, book, resolver, counts, log).await;
        }
    }

    async fn fire(
        &self,
        due: &[WindowId],
        book: &mut WindowBook,
        resolver: WindowResolver,
        counts: &mut StatsSnapshot,
        log: &mut LogLimiter,
    ) {
        let mut rows = Vec::new();
        // Each fired window's rows within `rows`, so that a rejection costs only its window.
        let mut outputs = Vec::new();
        for id in due {
            // A sync resolver never awaits: without this, firing thousands of windows would
            // keep the thread (and a shutdown's abort) waiting until the last.
            tokio::task::consume_budget().await;
            let Some((records, size, _)) = book.window(id) else {
                continue;
            };
            let raws: Vec<RawMessage<'_>> = records
                .iter()
                .map(|r| r.raw(&self.topic, self.partition))
                .collect();
            let end = Timestamp::from_millis(id.0);
            let first_row = rows.len();
            match resolver
                .fire_labelled(&raws, end, size.label, &mut rows)
                .await
            {
                Ok(()) => outputs.push((first_row..rows.len(), end, size.label)),
                Err(error) => {
                    counts.windows_failed += 1;
                    if let Some(suppressed) = log.allow() {
                        tracing::warn!(
                            stream = self.name(),
                            partition = self.partition,
                            window_end = %end,
                            window = size.label,
                            phase = %error.phase,
                            error = %error.message,
                            suppressed,
                            "window resolver failed; the window keeps its previous output"
                        );
                    }
                }
            }
        }
        match self.write_batch(&mut rows).await {
            Ok(()) => {
                counts.windows_fired += outputs.len() as u64;
                counts.rows_written += rows.len() as u64;
            }
            Err(rejected) => {
                tracing::info!(stream = self.name(), partition = self.partition, error = %rejected, "store rejected the output of several windows; writing each window's alone");
                for (range, end, label) in outputs {
                    let written = range.len() as u64;
                    match self.write_with_retry(&rows[range]).await {
                        Ok(()) => {
                            counts.windows_fired += 1;
                            counts.rows_written += written;
                        }
                        // Refused for good: retrying cannot help. The window keeps its messages
                        // until its retention ends, so a late message fires it again.
                        Err(error) => {
                            counts.windows_failed += 1;
                            tracing::error!(stream = self.name(), partition = self.partition, window_end = %end, window = label, %error, phase = %Phase::Store, "window output rejected by the store; the window keeps its previous output");
                        }
                    }
                }
            }
        }
        for id in due {
            book.fired(id);
        }
    }
}
