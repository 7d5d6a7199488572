//! Usage errors made clearer than clap makes them: a bad value that came from a flag's
//! environment variable names the variable (clap names only the flag, which the user may not
//! connect with the variable they set), and a URL's password is never shown (clap repeats the
//! value as given).

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::store::redacted;

/// `error`, naming the environment variable its bad value came from when `args` (the command
/// line) did not give the flag, and with any password in the value replaced by `***`.
pub(super) fn clarified(
    error: clap::Error,
    command: &clap::Command,
    args: &[String],
) -> clap::Error {
    if !matches!(
        error.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return error;
    }
    let Some(ContextValue::String(flag)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    // `--window-retention <DURATION>`
    let Some(long) = flag
        .split_whitespace()
        .next()
        .and_then(|name| name.strip_prefix("--"))
    else {
        return error;
    };
    let given = |arg: &String| {
        arg.strip_prefix("--")
            .is_some_and(|rest| rest == long || rest.starts_with(&format!("{long}=")))
    };
    let variable = if args.iter().any(given) {
        None
    } else {
        environment_variable(command, long)
    };
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };
    let shown = redacted(&value);
    if variable.is_none() && shown == value {
        return error;
    }
    let cause = std::error::Error::source(&error)
        .map(|cause| format!(": {}", cause.to_string().replace(&value, &shown)))
        .unwrap_or_default();
    let message = match variable {
        Some(variable) => {
            format!("invalid value '{shown}' in {variable} (the variable of '{flag}'){cause}\n")
        }
        None => format!("invalid value '{shown}' for '{flag}'{cause}\n"),
    };
    clap::Error::raw(error.kind(), message).with_cmd(command)
}

/// The environment variable of the flag `--{long}` in `command` or one of its subcommands.
fn environment_variable(command: &clap::Command, long: &str) -> Option<String> {
    command
        .get_arguments()
        .filter(|arg| arg.get_long() == Some(long))
        .find_map(|arg| arg.get_env())
        .map(|variable| variable.to_string_lossy().into_owned())
        .or_else(|| {
            command
                .get_subcommands()
                .find_map(|sub| environment_variable(sub, long))
        })
}
