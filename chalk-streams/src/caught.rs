//! Panics the runtime catches: a resolver's, a decoder's. Each becomes its message's failure,
//! logged with the others (rate-limited per partition) and naming where it happened. Rust's
//! panic hook would also print each one to standard error, with a backtrace where
//! `RUST_BACKTRACE` is set: for a stream of bad messages, a flood outside the logs. So while a
//! thread runs code whose panics are caught here, the hook only notes where the panic happened;
//! every other panic is printed as before, by the hook that was there.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

use futures::FutureExt;

thread_local! {
    /// How deep this thread is in code whose panics are caught here.
    static CATCHING: Cell<usize> = const { Cell::new(0) };
    /// Where the last panic caught on this thread happened.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A caught panic.
#[derive(Debug)]
pub(crate) struct Panic {
    message: String,
    location: Option<String>,
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match &self.location {
            Some(location) => write!(f, " (at {location})"),
            None => Ok(()),
        }
    }
}

impl Panic {
    fn from_payload(payload: Box<dyn std::any::Any + Send>) -> Self {
        Self {
            message: panic_text(payload.as_ref()).to_owned(),
            location: LOCATION.with(RefCell::take),
        }
    }
}

/// Runs `work`, a panic in it becoming an `Err`, without the panic hook's print.
pub(crate) fn catch<T>(work: impl FnOnce() -> T) -> Result<T, Panic> {
    install_hook();
    let _catching = Catching::enter();
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(Panic::from_payload)
}

/// Awaits `future`, a panic in any of its polls becoming an `Err`, without the hook's print.
pub(crate) async fn catch_async<F: Future + Unpin>(future: F) -> Result<F::Output, Panic> {
    install_hook();
    AssertUnwindSafe(Quiet(future))
        .catch_unwind()
        .await
        .map_err(Panic::from_payload)
}

/// The text of a panic's payload.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-text panic payload")
}

/// A future whose polls count as caught code.
struct Quiet<F>(F);

impl<F: Future + Unpin> Future for Quiet<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _catching = Catching::enter();
        Pin::new(&mut self.0).poll(cx)
    }
}

/// This thread's stay in caught code, left when dropped (by an unwinding panic too).
struct Catching;

impl Catching {
    fn enter() -> Self {
        CATCHING.with(|depth| depth.set(depth.get() + 1));
        Self
    }
}

impl Drop for Catching {
    fn drop(&mut self) {
        CATCHING.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Puts the hook in front of the one there, once per process.
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let caught = CATCHING.try_with(Cell::get).unwrap_or(0) > 0;
            if caught {
                let location = info.location().map(ToString::to_string);
                let _ = LOCATION.try_with(|slot| slot.replace(location));
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_says_what_and_where() {
        let panic = catch(|| -> u32 { panic!("no tenant header") }).expect_err("panicked");
        let text = panic.to_string();
        assert!(text.starts_with("no tenant header (at "), "{text}");
        assert!(text.contains("caught.rs:"), "{text}");
        assert_eq!(catch(|| 7).expect("no panic"), 7);
    }

    #[tokio::test]
    async fn a_panic_in_any_poll_is_caught() {
        let future = Box::pin(async {
            tokio::task::yield_now().await;
            panic!("after a yield")
        });
        let panic = catch_async(future).await.expect_err("panicked");
        assert!(
            panic.to_string().starts_with("after a yield (at "),
            "{panic}"
        );
    }

    /// Run in a process of its own (this test binary again), whose standard error it reads:
    /// caught panics print nothing there, and a panic elsewhere still does.
    #[test]
    fn caught_panics_print_nothing_and_others_still_do() {
        const CHILD: &str = "CHALK_CAUGHT_PANICS_CHILD";
        if std::env::var_os(CHILD).is_some() {
            for _ in 0..3 {
                let _ = catch(|| panic!("a caught one"));
            }
            let _ = std::thread::spawn(|| panic!("an uncaught one")).join();
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().expect("this test"))
            .args([
                "--exact",
                "caught::tests::caught_panics_print_nothing_and_others_still_do",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .output()
            .expect("the test runs again");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("a caught one"), "{stderr}");
        assert!(stderr.contains("an uncaught one"), "{stderr}");
    }
}
