//! A window stream's resolver: the generated check of each message as it arrives, and the
//! firing of a window, whose features are stored as `feature[size]`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::guard::{guarded, guarded_async};
use crate::features::FeatureRow;
use crate::message::{RawMessage, Timestamp};
use crate::registry::StreamDescriptor;
use crate::resolver::{CheckFn, FireAsyncFn, FireFn, MessageError, Resolver};

/// A window stream's two generated functions (and an async one's time limit per window).
#[derive(Clone, Copy)]
pub(crate) enum WindowResolver {
    /// A plain `fn`.
    Sync {
        /// Decodes a message as it arrives, so that a window never holds one that cannot be.
        check: CheckFn,
        /// Runs the resolver over a window's messages.
        fire: FireFn,
    },
    /// An `async fn`.
    Async {
        /// Decodes a message as it arrives.
        check: CheckFn,
        /// Starts the resolver over a window's messages.
        fire: FireAsyncFn,
        /// How long it may take on one window.
        timeout: Option<Duration>,
    },
}

impl WindowResolver {
    /// The window resolver of a stream; `None` for a mapping stream.
    pub(crate) fn of(descriptor: &StreamDescriptor) -> Option<Self> {
        match descriptor.resolver() {
            Resolver::Window { check, fire } => Some(Self::Sync { check, fire }),
            Resolver::WindowAsync { check, fire } => Some(Self::Async {
                check,
                fire,
                timeout: descriptor.timeout(),
            }),
            Resolver::Sync(_) | Resolver::Async(_) => None,
        }
    }

    /// The generated check of each message as it arrives.
    pub(crate) fn check(self) -> CheckFn {
        match self {
            Self::Sync { check, .. } | Self::Async { check, .. } => check,
        }
    }

    /// Runs the resolver over one window of `size`, appending its rows with their features
    /// named `feature[size]`.
    pub(crate) async fn fire_labelled(
        self,
        raws: &[RawMessage<'_>],
        end: Timestamp,
        label: &'static str,
        rows: &mut Vec<FeatureRow>,
    ) -> Result<(), MessageError> {
        let before = rows.len();
        let fired = self.fire(raws, end, rows).await;
        match fired {
            Ok(()) => {
                for row in &mut rows[before..] {
                    for (name, _) in &mut row.values {
                        *name = windowed_name(name, label);
                    }
                }
            }
            Err(_) => rows.truncate(before),
        }
        fired
    }

    /// Runs the resolver over one window, turning a panic (or the timeout) into a failure.
    async fn fire(
        self,
        raws: &[RawMessage<'_>],
        end: Timestamp,
        rows: &mut Vec<FeatureRow>,
    ) -> Result<(), MessageError> {
        match self {
            Self::Sync { fire, .. } => guarded(|| fire(raws, end, rows)),
            Self::Async { fire, timeout, .. } => {
                guarded_async(|| fire(raws, end), timeout, rows).await
            }
        }
    }
}

/// `feature[size]`: the name a windowed feature is stored under. Interned, so each distinct name
/// is allocated once for the life of the process (there are features × sizes of them).
pub(crate) fn windowed_name(feature: &'static str, label: &'static str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashMap<(&'static str, &'static str), &'static str>>> =
        OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    names
        .entry((feature, label))
        .or_insert_with(|| Box::leak(format!("{feature}[{label}]").into_boxed_str()))
}
