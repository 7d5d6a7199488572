//! The object-store client of a location, configured from the environment.

use std::fmt;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::{ObjectStore, RetryConfig};

use super::location::{RemoteLocation, Scheme};
use super::{RemoteError, FETCH_TIMEOUT};
use crate::source::resolve::EnvLookup;

/// The variables the S3 client reads, besides the process environment's.
const AWS_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "AWS_SKIP_SIGNATURE",
    "AWS_REQUEST_PAYER",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_METADATA_ENDPOINT",
    "AWS_IMDSV1_FALLBACK",
];

/// The variables the Google Cloud Storage client reads, besides the process environment's.
const GOOGLE_VARIABLES: &[&str] = &[
    "GOOGLE_SERVICE_ACCOUNT",
    "GOOGLE_SERVICE_ACCOUNT_PATH",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_BASE_URL",
    "GOOGLE_BEARER_TOKEN",
    "GOOGLE_SKIP_SIGNATURE",
    "GOOGLE_ALLOW_HTTP",
];

/// The object-store variables of an environment, captured before any fetch so that nothing
/// borrowed is held across it. `Debug` prints only the names.
#[derive(Clone, Default)]
pub struct StoreEnv {
    vars: Vec<(&'static str, String)>,
}

impl StoreEnv {
    /// The `AWS_*` and `GOOGLE_*` variables `env` sets (on top of the process environment, which
    /// the clients read themselves).
    pub fn capture(env: EnvLookup<'_>) -> Self {
        let vars = AWS_VARIABLES
            .iter()
            .chain(GOOGLE_VARIABLES)
            .filter_map(|&name| {
                env(name)
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (name, value))
            })
            .collect();
        Self { vars }
    }

    fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (String, &'a str)> {
        self.vars
            .iter()
            .filter(move |(name, _)| name.starts_with(prefix))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
    }

    /// A client for the bucket of `location`.
    pub(super) fn store(
        &self,
        location: &RemoteLocation,
    ) -> Result<Arc<dyn ObjectStore>, RemoteError> {
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: FETCH_TIMEOUT,
            ..RetryConfig::default()
        };
        let client_error = |source| RemoteError::Client {
            scheme: location.scheme(),
            source: Box::new(source),
        };
        match location.scheme() {
            Scheme::S3 => {
                let mut builder = AmazonS3Builder::from_env();
                for (key, value) in self.with_prefix("AWS_") {
                    if let Ok(key) = key.parse() {
                        builder = builder.with_config(key, value);
                    }
                }
                let store = builder
                    .with_bucket_name(location.bucket())
                    .with_retry(retry)
                    .build()
                    .map_err(client_error)?;
                Ok(Arc::new(store))
            }
            Scheme::Gcs => {
                let mut builder = GoogleCloudStorageBuilder::from_env();
                for (key, value) in self.with_prefix("GOOGLE_") {
                    if let Ok(key) = key.parse() {
                        builder = builder.with_config(key, value);
                    }
                }
                let store = builder
                    .with_bucket_name(location.bucket())
                    .with_retry(retry)
                    .build()
                    .map_err(client_error)?;
                Ok(Arc::new(store))
            }
        }
    }
}

impl fmt::Debug for StoreEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.vars.iter().map(|(name, _)| name))
            .finish()
    }
}
