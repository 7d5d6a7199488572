//! What a resolver may return: a Features row, `Option` (skip), `Vec` (fan-out), or `Result`.

use std::fmt::Display;

use crate::features::{FeatureRow, Features};
use crate::message::Timestamp;

/// The entity a stream writes: its namespace in the store and the features it may set (the
/// feature fields of its [`Features`] type; a field left `None` is not written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEntity {
    /// The entity's namespace (see [`Features::NAMESPACE`]).
    pub namespace: &'static str,
    /// Its feature names, in declaration order (see [`Features::FEATURES`]).
    pub features: &'static [&'static str],
}

impl StreamEntity {
    /// The entity that outputs of type `O` write.
    pub const fn of<O: StreamOutput>() -> Self {
        Self {
            namespace: <O::Entity as Features>::NAMESPACE,
            features: <O::Entity as Features>::FEATURES,
        }
    }
}

/// A resolver's return type. Implemented for every [`Features`] type `F` and for `Option<F>`,
/// `Vec<F>` and `Result<F, E>` (and their nestings) where `E: Display` (see [`OutputError`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a stream resolver output",
    label = "not a Features type, nor an `Option`, `Vec` or `Result` of one",
    note = "return a `#[derive(Features)]` struct, or `Option`, `Vec` or `Result<_, E: Display>` of one"
)]
pub trait StreamOutput {
    /// The [`Features`] type whose rows this output sets: the entity the stream writes.
    type Entity: Features;

    /// Appends the rows this output sets, stamped with feature time `time`. An `Err` output
    /// returns its error text: the message has failed in phase `resolver`.
    fn into_rows(self, time: Timestamp, rows: &mut Vec<FeatureRow>) -> Result<(), String>;
}

impl<F: Features> StreamOutput for F {
    type Entity = F;

    fn into_rows(self, time: Timestamp, rows: &mut Vec<FeatureRow>) -> Result<(), String> {
        rows.push(self.into_row(time));
        Ok(())
    }
}

impl<O: StreamOutput> StreamOutput for Option<O> {
    type Entity = O::Entity;

    fn into_rows(self, time: Timestamp, rows: &mut Vec<FeatureRow>) -> Result<(), String> {
        match self {
            Some(output) => output.into_rows(time, rows),
            None => Ok(()),
        }
    }
}

impl<O: StreamOutput> StreamOutput for Vec<O> {
    type Entity = O::Entity;

    fn into_rows(self, time: Timestamp, rows: &mut Vec<FeatureRow>) -> Result<(), String> {
        self.into_iter()
            .try_for_each(|output| output.into_rows(time, rows))
    }
}

/// What a resolver's `Err` may hold: any type that implements `Display`, whose text is the
/// failure's message (in the log and the dead letter).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a resolver's error: it does not implement `std::fmt::Display`",
    label = "the error type of this `Result` does not implement `Display`",
    note = "implement `std::fmt::Display` for `{Self}` (with `thiserror`, `#[error(\"...\")]`), or return `Result<_, String>`"
)]
pub trait OutputError: Display {}

// Errors name `OutputError` and its advice rather than listing every `Display` type.
#[diagnostic::do_not_recommend]
impl<E: Display> OutputError for E {}

impl<O: StreamOutput, E: OutputError> StreamOutput for Result<O, E> {
    type Entity = O::Entity;

    fn into_rows(self, time: Timestamp, rows: &mut Vec<FeatureRow>) -> Result<(), String> {
        match self {
            Ok(output) => output.into_rows(time, rows),
            Err(error) => Err(error.to_string()),
        }
    }
}
