//! Typed reads: `store.get::<User>(key)` reads an entity back as its [`Features`] type.
//!
//! It reads the features a mapping stream writes, named after the fields. A window stream's
//! features are named `field[size]` (`num_failed_logins[10m]`): read one window size's with
//! `store.get_window::<F>(key, "10m")`, or all of them with `get ENTITY KEY` on the command line.
//!
//! ```
//! use chalk_streams::prelude::*;
//! use chalk_streams::store::{FeatureStore, FeatureStoreExt, MemoryStore};
//!
//! #[derive(Features, Debug, PartialEq)]
//! struct User {
//!     #[primary]
//!     uid: String,
//!     favorite_color: Option<String>,
//!     age: i64,
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let time = Timestamp::from_millis(1_700_000_000_000);
//! let user = User { uid: "u1".into(), favorite_color: None, age: 30 };
//! store.write(&[user.into_row(time)]).await?;
//!
//! let stored = store.get::<User>("u1").await?.expect("u1 is stored");
//! assert_eq!(stored.value.age, 30);
//! assert_eq!(stored.value.favorite_color, None);
//! assert_eq!(stored.time("age"), Some(time));
//! assert!(store.get::<User>("nobody").await?.is_none());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::collections::BTreeMap;

use super::{FeatureStore, StoreError, StoredFeature};
use crate::features::{Features, PrimaryKey};
use crate::message::Timestamp;

/// An entity read back as its [`Features`] type, with the feature time of each feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<F> {
    /// The entity.
    pub value: F,
    /// The feature time of each of `F`'s features that is stored, by feature name. A feature
    /// that is not stored (an `Option` field read as `None`) has no entry, nor does the
    /// primary key; stored features that are not fields of `F` are left out.
    pub times: BTreeMap<String, Timestamp>,
}

impl<F> Stored<F> {
    /// The feature time of `feature`: when its stored value was observed. `None` if it is not
    /// stored.
    pub fn time(&self, feature: &str) -> Option<Timestamp> {
        self.times.get(feature).copied()
    }
}

/// Why a typed read failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The store failed to read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The entity is stored but does not convert to the requested type: a non-`Option`
    /// feature is not stored, a stored value has another type or is out of range, or the key
    /// does not parse as the primary key's type. The message names the feature and entity.
    #[error("{message}")]
    Decode {
        /// The entity's namespace, e.g. `user`.
        namespace: String,
        /// The entity's key.
        key: String,
        /// What did not convert, e.g. ``feature `age` of user `u1` is not stored``.
        message: String,
    },
}

/// Typed reads on every [`FeatureStore`], including `dyn FeatureStore`: bring this trait into
/// scope and call `store.get::<User>("u1")`.
#[async_trait::async_trait]
pub trait FeatureStoreExt: FeatureStore {
    /// The entity `key` of type `F` with each feature's time, or `None` if nothing is stored
    /// for it in `F::NAMESPACE`.
    ///
    /// An `Option` feature that is not stored reads as `None`; features stored under names
    /// that are not fields of `F` are ignored.
    ///
    /// # Errors
    ///
    /// [`ReadError::Store`] if the store fails; [`ReadError::Decode`] if the entity is stored
    /// but does not convert to `F` (see [`Features::from_features`]).
    async fn get<F: Features>(
        &self,
        key: impl PrimaryKey + Send + Sync,
    ) -> Result<Option<Stored<F>>, ReadError>;

    /// The entity `key` of type `F` as a window stream wrote it for the window size labelled
    /// `window` (as in the stream's attribute, e.g. `"10m"`): each field is read from the
    /// feature `field[window]`. `None` if nothing is stored for that size.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    async fn get_window<F: Features>(
        &self,
        key: impl PrimaryKey + Send + Sync,
        window: &str,
    ) -> Result<Option<Stored<F>>, ReadError>;
}

#[async_trait::async_trait]
impl<S: FeatureStore + ?Sized> FeatureStoreExt for S {
    async fn get<F: Features>(
        &self,
        key: impl PrimaryKey + Send + Sync,
    ) -> Result<Option<Stored<F>>, ReadError> {
        let key = key.into_key();
        let Some(entity) = self.entity(F::NAMESPACE, &key).await? else {
            return Ok(None);
        };
        decode::<F>(key, &entity.features).map(Some)
    }

    async fn get_window<F: Features>(
        &self,
        key: impl PrimaryKey + Send + Sync,
        window: &str,
    ) -> Result<Option<Stored<F>>, ReadError> {
        let key = key.into_key();
        let Some(entity) = self.entity(F::NAMESPACE, &key).await? else {
            return Ok(None);
        };
        let suffix = format!("[{window}]");
        let features: BTreeMap<String, StoredFeature> = entity
            .features
            .into_iter()
            .filter_map(|(name, stored)| {
                let field = name.strip_suffix(&suffix)?;
                Some((field.to_owned(), stored))
            })
            .collect();
        if features.is_empty() {
            return Ok(None);
        }
        decode::<F>(key, &features).map(Some)
    }
}

/// `F` from the entity `key`'s `features` (field name → stored feature), with their times.
fn decode<F: Features>(
    key: String,
    features: &BTreeMap<String, StoredFeature>,
) -> Result<Stored<F>, ReadError> {
    let value = F::from_features(&key, features).map_err(|message| ReadError::Decode {
        namespace: F::NAMESPACE.to_owned(),
        key,
        message,
    })?;
    let times = F::FEATURES
        .iter()
        .filter_map(|&name| {
            let stored = features.get(name)?;
            Some((name.to_owned(), stored.time))
        })
        .collect();
    Ok(Stored { value, times })
}
