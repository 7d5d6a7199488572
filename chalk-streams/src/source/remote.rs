//! Keystores and CA files given as `s3://bucket/key` or `gs://bucket/key` URIs.
//!
//! At start-up (`run`, `check`, `push`, `dlq replay`) each such location is fetched through the
//! `object_store` crate into a private temporary file (mode 0600), and the source is pointed at
//! that file, whose path is what librdkafka gets. The files are removed when the
//! [`FetchedFiles`] holding them is dropped: when the streams stop or the command ends.
//!
//! Credentials and endpoints come from the standard variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, ...;
//! `GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_APPLICATION_CREDENTIALS`, ...), read from the process
//! environment and from the environment the runtime resolves sources with.

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::{ObjectStore, ObjectStoreExt as _, RetryConfig};

use super::resolve::{EnvLookup, ResolvedSource};
use super::SourceError;
use crate::error::{ConfigProblem, Error};
use crate::runtime::StreamPlan;

/// The largest file fetched: keystores and CA bundles are a few kilobytes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// How long fetching one file may take in all, retries included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

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

/// The object stores a location can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Amazon S3 or an S3-compatible store: `s3://`.
    S3,
    /// Google Cloud Storage: `gs://`.
    Gcs,
}

impl Scheme {
    /// The URI prefix, `s3://` or `gs://`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::S3 => "s3://",
            Self::Gcs => "gs://",
        }
    }

    /// The store's name, for messages.
    pub const fn store_name(self) -> &'static str {
        match self {
            Self::S3 => "S3",
            Self::Gcs => "Google Cloud Storage",
        }
    }

    /// Which variables configure the store's credentials, for messages.
    const fn credentials_hint(self) -> &'static str {
        match self {
            Self::S3 => "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, and AWS_ENDPOINT for an S3-compatible store",
            Self::Gcs => "GOOGLE_SERVICE_ACCOUNT (a key file) or GOOGLE_APPLICATION_CREDENTIALS",
        }
    }
}

/// A file in an object store: `s3://bucket/key` or `gs://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteLocation {
    scheme: Scheme,
    bucket: String,
    key: String,
}

impl RemoteLocation {
    /// `None` for a local path; otherwise the location, or why the URI cannot be fetched.
    pub fn parse(location: &str) -> Option<Result<Self, String>> {
        let (scheme_text, rest) = location.split_once("://")?;
        let scheme = match scheme_text {
            "s3" => Scheme::S3,
            "gs" => Scheme::Gcs,
            other => {
                return Some(Err(format!(
                    "`{location}` is a `{other}://` URI; only s3:// and gs:// URIs are fetched"
                )))
            }
        };
        Some(match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                Ok(Self {
                    scheme,
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                })
            }
            _ => Err(format!(
                "`{location}` names no object: expected {}bucket/key",
                scheme.prefix()
            )),
        })
    }

    /// The store the location is in.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object's key within the bucket.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for RemoteLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}/{}", self.scheme.prefix(), self.bucket, self.key)
    }
}

/// Why a remote file could not be fetched. No message contains a credential.
#[derive(Debug, thiserror::Error)]
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
                location.scheme.credentials_hint()
            ),
            Self::Fetch { location, .. } | Self::Timeout { location, .. } => format!(
                "check that the {} endpoint is reachable and the credentials are right ({})",
                location.scheme.store_name(),
                location.scheme.credentials_hint()
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
    fn store(&self, location: &RemoteLocation) -> Result<Arc<dyn ObjectStore>, RemoteError> {
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: FETCH_TIMEOUT,
            ..RetryConfig::default()
        };
        let client_error = |source| RemoteError::Client {
            scheme: location.scheme,
            source: Box::new(source),
        };
        match location.scheme {
            Scheme::S3 => {
                let mut builder = AmazonS3Builder::from_env();
                for (key, value) in self.with_prefix("AWS_") {
                    if let Ok(key) = key.parse() {
                        builder = builder.with_config(key, value);
                    }
                }
                let store = builder
                    .with_bucket_name(&location.bucket)
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
                    .with_bucket_name(&location.bucket)
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

/// Fetches `location` into a private temporary file (mode 0600), removed when the returned
/// path is dropped.
pub async fn fetch(
    location: &RemoteLocation,
    env: &StoreEnv,
) -> Result<tempfile::TempPath, RemoteError> {
    let store = env.store(location)?;
    let key = object_store::path::Path::from(location.key.as_str());
    let download = async {
        let result = store.get(&key).await?;
        let size = result.meta.size;
        if size > MAX_FILE_BYTES {
            return Ok(Err(size));
        }
        result.bytes().await.map(Ok)
    };
    let bytes = match tokio::time::timeout(FETCH_TIMEOUT, download).await {
        Err(_) => {
            return Err(RemoteError::Timeout {
                location: location.clone(),
                timeout: FETCH_TIMEOUT,
            })
        }
        Ok(Err(object_store::Error::NotFound { .. })) => {
            return Err(RemoteError::NotFound {
                location: location.clone(),
            })
        }
        Ok(Err(source)) => {
            return Err(RemoteError::Fetch {
                location: location.clone(),
                source: Box::new(source),
            })
        }
        Ok(Ok(Err(size))) => {
            return Err(RemoteError::TooLarge {
                location: location.clone(),
                size,
            })
        }
        Ok(Ok(Ok(bytes))) => bytes,
    };
    let suffix = Path::new(&location.key)
        .extension()
        .map(|ext| format!(".{}", ext.to_string_lossy()))
        .unwrap_or_default();
    let written = tokio::task::spawn_blocking(move || write_private(&bytes, &suffix))
        .await
        .map_err(std::io::Error::other)
        .and_then(|written| written);
    let path = written.map_err(|source| RemoteError::Write {
        location: location.clone(),
        source,
    })?;
    tracing::info!(uri = %location, path = %path.display(), "fetched remote file");
    Ok(path)
}

/// Writes `bytes` to a new temporary file readable and writable by this user only.
fn write_private(bytes: &[u8], suffix: &str) -> std::io::Result<tempfile::TempPath> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("chalk-streams-").suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut file = builder.tempfile()?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    Ok(file.into_temp_path())
}

/// Private local copies of remote keystores and CA files; each is removed when this is dropped.
#[derive(Default)]
pub struct FetchedFiles {
    /// Each URI fetched, with its copy: a URI several sources name is fetched once.
    files: HashMap<String, tempfile::TempPath>,
}

impl FetchedFiles {
    /// Where the copies are, while they exist.
    pub fn paths(&self) -> impl Iterator<Item = &Path> + '_ {
        self.files.values().map(|path| &**path)
    }

    /// Whether nothing was fetched.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Points every `s3://` or `gs://` location of `source` (`ssl_keystore_location`,
    /// `ssl_ca_file`) at a private local copy, fetching it unless this already holds it. All
    /// problems are returned together.
    pub async fn localize(
        &mut self,
        source: &mut ResolvedSource,
        env: &StoreEnv,
    ) -> Result<(), Vec<SourceError>> {
        let mut errors = Vec::new();
        for (option, slot) in [
            ("ssl_keystore_location", &mut source.ssl_keystore_location),
            ("ssl_ca_file", &mut source.ssl_ca_file),
        ] {
            let Some(uri) = slot.clone() else { continue };
            match self.local_copy(&uri, env).await {
                Ok(None) => {}
                Ok(Some(path)) => *slot = Some(path.to_string_lossy().into_owned()),
                Err((problem, fix)) => {
                    tracing::debug!(option, uri = %uri, %problem, "cannot fetch a remote file");
                    errors.push(SourceError {
                        option,
                        problem,
                        fix,
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The local copy of `uri` (`None` for a local path), or the problem and its fix.
    async fn local_copy(
        &mut self,
        uri: &str,
        env: &StoreEnv,
    ) -> Result<Option<PathBuf>, (String, String)> {
        let location = match RemoteLocation::parse(uri) {
            None => return Ok(None),
            Some(Ok(location)) => location,
            Some(Err(problem)) => return Err((problem, "give a local path".to_owned())),
        };
        if let Some(path) = self.files.get(uri) {
            return Ok(Some(path.to_path_buf()));
        }
        match fetch(&location, env).await {
            Ok(path) => {
                let local = path.to_path_buf();
                self.files.insert(uri.to_owned(), path);
                Ok(Some(local))
            }
            Err(error) => Err((format!("cannot fetch `{location}`: {error}"), error.fix())),
        }
    }
}

impl fmt::Debug for FetchedFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.files.iter().map(|(uri, path)| (uri, path.display())))
            .finish()
    }
}

/// Fetches the remote files of every plan's source (see [`FetchedFiles::localize`]); every
/// problem, named by stream, is reported together.
pub async fn localize_plans(
    plans: &mut [StreamPlan],
    env: &StoreEnv,
) -> crate::Result<FetchedFiles> {
    let mut files = FetchedFiles::default();
    let mut problems = Vec::new();
    for plan in plans {
        if let Err(errors) = files.localize(&mut plan.source, env).await {
            let source_name = plan.source.name.clone();
            problems.extend(errors.into_iter().map(|error| ConfigProblem {
                stream: plan.descriptor.name().to_owned(),
                source_name: source_name.clone(),
                error,
            }));
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(Error::Config(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_by_scheme() {
        assert_eq!(RemoteLocation::parse("/etc/kafka/ca.pem"), None);
        let s3 = RemoteLocation::parse("s3://certs/tls/ca.pem")
            .expect("a URI")
            .expect("valid");
        assert_eq!(
            (s3.scheme(), s3.bucket(), s3.key()),
            (Scheme::S3, "certs", "tls/ca.pem")
        );
        assert_eq!(s3.to_string(), "s3://certs/tls/ca.pem");
        let gs = RemoteLocation::parse("gs://certs/client.p12")
            .expect("a URI")
            .expect("valid");
        assert_eq!(gs.scheme(), Scheme::Gcs);
        for bad in ["s3://certs", "s3://certs/", "gs:///key", "s3://certs/dir/"] {
            let problem = RemoteLocation::parse(bad)
                .expect("a URI")
                .expect_err("no object named");
            assert!(problem.contains("names no object"), "{bad}: {problem}");
        }
        let problem = RemoteLocation::parse("https://host/ca.pem")
            .expect("a URI")
            .expect_err("not fetched");
        assert!(problem.contains("only s3:// and gs:// URIs are fetched"));
    }

    #[test]
    fn captured_variables_never_print_their_values() {
        let env = StoreEnv::capture(&|var: &str| match var {
            "AWS_SECRET_ACCESS_KEY" => Some("very-secret".to_owned()),
            "AWS_REGION" => Some("eu-west-1".to_owned()),
            "UNRELATED" => Some("x".to_owned()),
            _ => None,
        });
        let printed = format!("{env:?}");
        assert_eq!(printed, r#"["AWS_SECRET_ACCESS_KEY", "AWS_REGION"]"#);
    }

    #[test]
    fn private_copies_are_mode_0600_and_removed_when_dropped() {
        let path = write_private(b"-----BEGIN CERTIFICATE-----", ".pem").expect("written");
        let copy = path.to_path_buf();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&copy)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(copy.to_string_lossy().ends_with(".pem"));
        drop(path);
        assert!(!copy.exists());
    }
}
