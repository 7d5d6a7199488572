//! The wall clock the runtime reads: late-arrival checks and window firing. Tests replace it
//! with a [`ManualClock`] they move by hand.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::message::Timestamp;

/// The longest wait a deadline holds: a longer timeout (`Duration::MAX`, meant as "never")
/// waits this long, a century, where adding it to the clock would overflow and panic.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// A source of the current time that can also wait for a time to come.
#[async_trait::async_trait]
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Timestamp;

    /// Resolves once [`now`](Clock::now) has reached `deadline`.
    async fn sleep_until(&self, deadline: Timestamp);
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait::async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    async fn sleep_until(&self, deadline: Timestamp) {
        loop {
            let left = deadline.as_millis().saturating_sub(self.now().as_millis());
            if left <= 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(left.unsigned_abs())).await;
        }
    }
}

/// A clock that moves only when told to, for tests of time-dependent behaviour.
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
    moved: Notify,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            millis: AtomicI64::new(start.as_millis()),
            moved: Notify::new(),
        }
    }

    /// The time it shows.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.millis.load(Ordering::SeqCst))
    }

    /// Moves the clock forward by `by` (at most to the last millisecond a timestamp holds, so
    /// that `Duration::MAX` means "past everything") and wakes everything waiting on it.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        // `fetch_add` would wrap around to a time before the epoch.
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |millis| {
                Some(millis.saturating_add(by))
            });
        self.moved.notify_waiters();
    }

    /// Sets the clock to `to` (which may be earlier) and wakes everything waiting on it.
    pub fn set(&self, to: Timestamp) {
        self.millis.store(to.as_millis(), Ordering::SeqCst);
        self.moved.notify_waiters();
    }
}

#[async_trait::async_trait]
impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        ManualClock::now(self)
    }

    async fn sleep_until(&self, deadline: Timestamp) {
        loop {
            let moved = self.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            if self.now() >= deadline {
                return;
            }
            moved.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_when_moved_past_their_deadline() {
        let clock = std::sync::Arc::new(ManualClock::new(Timestamp::from_millis(0)));
        let sleeper = {
            let clock = std::sync::Arc::clone(&clock);
            tokio::spawn(async move { clock.sleep_until(Timestamp::from_millis(1_000)).await })
        };
        clock.advance(Duration::from_millis(500));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_millis(500));
        sleeper.await.expect("woken");
        assert_eq!(clock.now(), Timestamp::from_millis(1_000));
    }

    #[test]
    fn advancing_by_the_longest_duration_stops_at_the_last_timestamp() {
        let clock = ManualClock::new(Timestamp::from_millis(1_000));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), Timestamp::from_millis(i64::MAX));
        clock.advance(Duration::from_secs(1));
        assert_eq!(clock.now(), Timestamp::from_millis(i64::MAX));
    }
}
