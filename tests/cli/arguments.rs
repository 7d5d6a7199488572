//! Command-line arguments that are not UTF-8.

#![cfg(unix)]

use std::os::unix::ffi::OsStrExt as _;

use crate::{example, run, text};

/// An argument that is not UTF-8 is a usage error, where its bytes were replaced and the
/// command went on with another key, file or entity than the one given.
#[test]
fn an_argument_that_is_not_utf8_is_refused() {
    let key = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let out = run(example().args(["get", "user"]).arg(key));
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let error = text(&out.stderr);
    assert!(
        error.contains("argument `caf\u{fffd}` is not UTF-8"),
        "{error}"
    );
}

/// The program's own path may be any bytes (a directory named in Latin-1, say): that is no
/// argument to refuse.
#[test]
fn a_program_path_that_is_not_utf8_is_taken() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    std::fs::copy(suite::example_named("favorite_color"), &program).expect("copied");
    let out = run(std::process::Command::new(&program).arg("--help"));
    assert!(out.status.success(), "{}", text(&out.stderr));
}
