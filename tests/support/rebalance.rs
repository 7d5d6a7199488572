//! Making a stream's group rebalance while its worker is busy: another member of the group, and
//! a gate that holds a synchronous resolver until the test lets it go.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::PATIENCE;

/// Another member of a consumer group, reading another topic until it leaves: its joining and
/// its leaving each make the group rebalance.
pub struct OtherMember {
    leave: Arc<AtomicBool>,
    polling: Option<JoinHandle<()>>,
}

impl OtherMember {
    /// Joins `group` on `bootstrap`, subscribed to `topic`.
    pub fn join(bootstrap: &str, group: &str, topic: &str) -> Self {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", group)
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "500")
            .create()
            .expect("member");
        consumer.subscribe(&[topic]).expect("subscribed");
        let leave = Arc::new(AtomicBool::new(false));
        let polling = {
            let leave = Arc::clone(&leave);
            std::thread::spawn(move || {
                while !leave.load(Ordering::SeqCst) {
                    let _ = consumer.poll(Duration::from_millis(100));
                }
            })
        };
        Self {
            leave,
            polling: Some(polling),
        }
    }

    /// Leaves the group, and returns once the member's consumer is closed.
    pub fn leave(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.leave.store(true, Ordering::SeqCst);
        if let Some(polling) = self.polling.take() {
            polling.join().expect("member left");
        }
    }
}

impl Drop for OtherMember {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Holds each synchronous resolver that enters it until the test releases it (or for
/// [`PATIENCE`] at most). Declared as a `static`, for resolvers are plain functions.
pub struct Gate {
    entered: tokio::sync::Notify,
    released: (Mutex<bool>, Condvar),
}

impl Gate {
    /// A closed gate.
    pub const fn new() -> Self {
        Self {
            entered: tokio::sync::Notify::const_new(),
            released: (Mutex::new(false), Condvar::new()),
        }
    }

    /// Called by a resolver: says it is here, then waits until the gate is released.
    pub fn hold(&self) {
        self.entered.notify_one();
        let (released, changed) = &self.released;
        let guard = released.lock().unwrap_or_else(PoisonError::into_inner);
        let _released = changed
            .wait_timeout_while(guard, PATIENCE, |released| !*released)
            .unwrap_or_else(PoisonError::into_inner);
    }

    /// Waits until a resolver is held (one wait per hold); panics after [`PATIENCE`].
    pub async fn held(&self, what: &str) {
        tokio::time::timeout(PATIENCE, self.entered.notified())
            .await
            .unwrap_or_else(|_| panic!("{what}: no resolver reached the gate"));
    }

    /// Lets every held resolver go, and every later one pass.
    pub fn release(&self) {
        *self
            .released
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.released.1.notify_all();
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}
