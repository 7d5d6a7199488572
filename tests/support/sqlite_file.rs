//! A SQLite store file written by another process, read as a user would read it.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// Rows in the store, read as another process would (0 before the table exists).
pub fn stored_rows(store: &Path) -> i64 {
    let Ok(connection) =
        rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    connection
        .query_row("SELECT COUNT(*) FROM features", [], |r| r.get(0))
        .unwrap_or(0)
}

/// Polls the store file (written by another process, so there is no event to await) until it
/// holds `rows` rows.
pub fn wait_for_rows(store: &Path, rows: i64, child: &mut Child) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let count = stored_rows(store);
        if count >= rows {
            return count;
        }
        still_waiting(child, deadline, || {
            format!("only {count} of {rows} rows stored")
        });
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fails the test if the stream's process `child` has died, or if `deadline` has passed (then
/// saying `what` was not reached): for a test polling what another process does.
pub fn still_waiting(child: &mut Child, deadline: Instant, what: impl FnOnce() -> String) {
    assert!(
        child.try_wait().expect("status").is_none(),
        "the stream process died"
    );
    assert!(Instant::now() < deadline, "{}", what());
}
