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
}

impl LogLimiter {
    pub(crate) fn new(window: Duration, burst: u32) -> Self {
        Self {
            window,
            burst,
            started: Instant::now(),
            logged: 0,
            suppressed: 0,
        }
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
}
