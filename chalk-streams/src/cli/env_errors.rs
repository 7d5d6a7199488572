//! clap names the flag in a parse error even when the bad value came from the flag's
//! environment variable, which the user set and may not connect with the flag: the error then
//! names the variable.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// `error`, naming the environment variable its bad value came from when `args` (the command
/// line) did not give the flag.
pub(super) fn naming_environment(
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
    if args.iter().any(given) {
        return error;
    }
    let Some(variable) = environment_variable(command, long) else {
        return error;
    };
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };
    let cause = std::error::Error::source(&error)
        .map(|cause| format!(": {cause}"))
        .unwrap_or_default();
    clap::Error::raw(
        error.kind(),
        format!("invalid value '{value}' in {variable} (the variable of '{flag}'){cause}\n"),
    )
    .with_cmd(command)
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
