//! Rate-limited logging, so a flood of bad messages does not flood the logs.

use std::time::{Duration, Instant};

/// Allows `burst` log lines per `window`, and counts what it suppressed.
#[derive(Debug)]
pub(crate) struct LogLimiter {
    window: Duration,
    burst: u32,
    started: Instant,
    logged: u32,
    suppressed: u64,
    /// The first and last offsets of the suppressed lines about messages, if any.
    suppressed_offsets: Option<(i64, i64)>,
}

impl LogLimiter {
    pub(crate) fn new(window: Duration, burst: u32) -> Self {
        Self {
            window,
            burst,
            started: Instant::now(),
            logged: 0,
            suppressed: 0,
            suppressed_offsets: None,
        }
    }

    /// A partition worker's limit: 10 lines every 10 s (as the README says).
    pub(crate) fn per_partition() -> Self {
        Self::new(Duration::from_secs(10), 10)
    }

    /// `Some(n)` if this line may be logged, `n` being how many were suppressed before it.
    pub(crate) fn allow(&mut self) -> Option<u64> {
        if self.started.elapsed() >= self.window {
            self.started = Instant::now();
            self.logged = 0;
        }
        if self.logged < self.burst {
            self.logged += 1;
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }

    /// As [`allow`](Self::allow), for a line about the message at `offset` of one partition. The
    /// first and last offsets of the lines it suppresses are kept, and returned with the next
    /// line allowed as `first-last`, so that the messages it did not log can still be found.
    pub(crate) fn allow_offset(&mut self, offset: i64) -> Option<(u64, Option<String>)> {
        match self.allow() {
            Some(suppressed) => {
                let offsets = self
                    .suppressed_offsets
                    .take()
                    .map(|(first, last)| format!("{first}-{last}"));
                Some((suppressed, offsets))
            }
            None => {
                let (first, _) = self.suppressed_offsets.unwrap_or((offset, offset));
                self.suppressed_offsets = Some((first, offset));
                None
            }
        }
    }

    /// When the lines about messages suppressed since the last line allowed are due to be
    /// logged on their own, if there are any: as the window that held them back ends, for a
    /// partition that then reads nothing more that fails (the next line allowed would name them).
    pub(crate) fn unlogged_due(&self) -> Option<Instant> {
        self.suppressed_offsets.map(|_| self.started + self.window)
    }

    /// The lines about messages suppressed since the last line allowed, as how many lines were
    /// suppressed and `first-last` offsets, if any: for a worker that stops, or whose window
    /// ended (see [`unlogged_due`](Self::unlogged_due)), to log them, rather than keep them
    /// unlogged or drop them with the limiter.
    pub(crate) fn take_unlogged(&mut self) -> Option<(u64, String)> {
        let (first, last) = self.suppressed_offsets.take()?;
        Some((
            std::mem::take(&mut self.suppressed),
            format!("{first}-{last}"),
        ))
    }
}

/// Waits until `due` (see [`LogLimiter::unlogged_due`]), or for ever without it.
pub(crate) async fn until_due(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::LogLimiter;

    #[test]
    fn the_line_after_a_suppressed_run_names_its_offsets() {
        let mut log = LogLimiter::new(Duration::ZERO, 1);
        // A zero window starts a new one at each line: every line is allowed.
        assert_eq!(log.allow_offset(3), Some((0, None)));

        let mut log = LogLimiter::new(Duration::from_secs(3600), 2);
        assert_eq!(log.allow_offset(10), Some((0, None)));
        assert_eq!(log.allow_offset(11), Some((0, None)));
        assert_eq!(log.allow_offset(15), None);
        assert_eq!(log.allow_offset(40), None);
        assert_eq!(log.allow_offset(41), None);
        log.started -= Duration::from_secs(3600);
        assert_eq!(log.allow_offset(50), Some((3, Some("15-41".to_owned()))));
        assert_eq!(log.allow_offset(51), Some((0, None)));
    }

    #[test]
    fn what_was_suppressed_last_can_be_taken_at_the_end() {
        let mut log = LogLimiter::new(Duration::from_secs(3600), 1);
        assert_eq!(log.allow_offset(1), Some((0, None)));
        assert_eq!(log.take_unlogged(), None, "nothing suppressed");
        assert_eq!(log.allow_offset(7), None);
        assert_eq!(log.allow_offset(9), None);
        assert_eq!(log.unlogged_due(), Some(log.started + log.window));
        assert_eq!(log.take_unlogged(), Some((2, "7-9".to_owned())));
        assert_eq!(log.take_unlogged(), None, "taken once");
        assert_eq!(log.unlogged_due(), None, "nothing left to log");
    }
}
