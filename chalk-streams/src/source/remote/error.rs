//! Why a remote file could not be fetched.

use std::time::Duration;

use super::location::{RemoteLocation, Scheme};
use super::MAX_FILE_BYTES;

/// Why a remote file could not be fetched. No message contains a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The store's client could not be set up (bad credentials configuration, endpoint, ...).
    #[error("cannot set up the {} client: {source}", .scheme.store_name())]
    Client {
        /// The store.
        scheme: Scheme,
        /// What the client said.
        source: Box<object_store::Error>,
    },
    /// The object does not exist.
    #[error("`{location}` does not exist")]
    NotFound {
        /// The location asked for.
        location: RemoteLocation,
    },
    /// The store answered with another error.
    #[error("fetching `{location}` failed: {source}")]
    Fetch {
        /// The location asked for.
        location: RemoteLocation,
        /// What the store said.
        source: Box<object_store::Error>,
    },
    /// The store did not answer in time.
    #[error("fetching `{location}` took longer than {}", humantime::format_duration(*.timeout))]
    Timeout {
        /// The location asked for.
        location: RemoteLocation,
        /// How long it had.
        timeout: Duration,
    },
    /// The object is too large to be a keystore or a CA file.
    #[error("`{location}` is {size} bytes, more than the {MAX_FILE_BYTES} a keystore or CA file may have")]
    TooLarge {
        /// The location asked for.
        location: RemoteLocation,
        /// The object's size.
        size: u64,
    },
    /// The private temporary copy could not be written.
    #[error("cannot write `{location}` to a private temporary file: {source}")]
    Write {
        /// The location fetched.
        location: RemoteLocation,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl RemoteError {
    /// What to do about it.
    pub fn fix(&self) -> String {
        match self {
            Self::Client { scheme, .. } => {
                format!(
                    "check the {} settings: {}",
                    scheme.store_name(),
                    scheme.credentials_hint()
                )
            }
            Self::NotFound { location } => format!(
                "check the bucket and key, and that the credentials may read it ({})",
                location.scheme().credentials_hint()
            ),
            Self::Fetch { location, .. } | Self::Timeout { location, .. } => format!(
                "check that the {} endpoint is reachable and the credentials are right ({})",
                location.scheme().store_name(),
                location.scheme().credentials_hint()
            ),
            Self::TooLarge { .. } => {
                "point the option at the PEM or PKCS#12 file itself".to_owned()
            }
            Self::Write { .. } => {
                "make the temporary directory (TMPDIR) writable, with free space".to_owned()
            }
        }
    }
}
