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
