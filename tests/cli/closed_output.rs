//! A reader that goes away before a command has printed (`app asyncapi | head -c 0`) ends the
//! printing, not the program with a panic.

use std::process::Stdio;

use crate::{example, text};

#[test]
fn a_closed_standard_output_is_no_panic() {
    for command in [&["asyncapi"][..], &["list", "--json"], &["list"]] {
        let mut child = example()
            .args(command)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("example runs");
        // The reading end closes before the program has started: its first write finds the
        // pipe closed.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("it ends");
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{command:?}: {stderr}");
        assert!(out.status.success(), "{command:?}: {stderr}");
    }
}

/// A command that fails with standard error closed (`app push ... 2>&1 | head -1`, the reader
/// gone) still ends with status 1, not a panic's 101: `get` says only why it failed, and `run`
/// logs a line first.
#[test]
fn a_closed_standard_error_keeps_the_failures_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no such directory").join("features.sqlite");
    let store = format!("sqlite://{}", missing.display());
    let nowhere = suite::server::closed_port();
    for command in [&["get", "user", "u1"][..], &["run"]] {
        let mut child = example()
            .args(command)
            .args(["--store", &store])
            .env("KAFKA_BOOTSTRAP_SERVER", format!("127.0.0.1:{nowhere}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("example runs");
        drop(child.stderr.take());
        let out = child.wait_with_output().expect("it ends");
        assert_eq!(out.status.code(), Some(1), "{command:?}");
    }
}
