//! What commands print on standard output and standard error. A reader that goes away
//! (`| head`) ends the printing quietly, where `print!` and `eprint!` would panic; any other
//! failure to write to standard output is an error.

use std::fmt;
use std::io::{ErrorKind, Write};

/// Writes `text` to standard output, flushed; a reader that has gone away is not an error.
pub(super) fn print(text: impl fmt::Display) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    quiet_when_closed(write!(out, "{text}").and_then(|()| out.flush()))
}

/// Writes `text` and a newline to standard error; a failure to write there has nowhere to be
/// told, and does not change how the command ends.
pub(super) fn eprintln(text: impl fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `written`, with a closed pipe taken as done.
fn quiet_when_closed(written: std::io::Result<()>) -> std::io::Result<()> {
    match written {
        Err(error) if error.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_ends_the_printing_and_other_failures_are_errors() {
        let closed = std::io::Error::from(ErrorKind::BrokenPipe);
        assert!(quiet_when_closed(Err(closed)).is_ok());
        let full = std::io::Error::from(ErrorKind::StorageFull);
        assert!(quiet_when_closed(Err(full)).is_err());
    }
}
