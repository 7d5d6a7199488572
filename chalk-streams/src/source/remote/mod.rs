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

mod error;
mod location;
mod store_env;

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use object_store::ObjectStoreExt as _;

pub use error::RemoteError;
use location::missing_local;
pub(crate) use location::missing_local_files;
pub use location::{RemoteLocation, Scheme};
pub use store_env::StoreEnv;

use super::resolve::ResolvedSource;
use super::SourceError;
use crate::error::{ConfigProblem, Error};
use crate::runtime::StreamPlan;

/// The largest file fetched: keystores and CA bundles are a few kilobytes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// How long fetching one file may take in all, retries included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Fetches `location` into a private temporary file (mode 0600), removed when the returned
/// path is dropped.
pub async fn fetch(
    location: &RemoteLocation,
    env: &StoreEnv,
) -> Result<tempfile::TempPath, RemoteError> {
    let store = env.store(location)?;
    let key = location.key_path();
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
    let suffix = Path::new(location.key())
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
    /// Each URI that could not be fetched, with the problem and its fix: said again for each
    /// source that names it, rather than waited out again (up to [`FETCH_TIMEOUT`] each).
    failed: HashMap<String, (String, String)>,
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
                    tracing::debug!(option, uri = %location::shown(&uri), %problem, "cannot fetch a remote file");
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

    /// The local copy of `uri` (`None` for a local file, which must exist), or the problem and
    /// its fix.
    async fn local_copy(
        &mut self,
        uri: &str,
        env: &StoreEnv,
    ) -> Result<Option<PathBuf>, (String, String)> {
        let location = match RemoteLocation::parse(uri) {
            None => return missing_local(uri).map_or(Ok(None), Err),
            Some(Ok(location)) => location,
            Some(Err(problem)) => return Err((problem, "give a local path".to_owned())),
        };
        if let Some(path) = self.files.get(uri) {
            return Ok(Some(path.to_path_buf()));
        }
        if let Some(failure) = self.failed.get(uri) {
            return Err(failure.clone());
        }
        match fetch(&location, env).await {
            Ok(path) => {
                let local = path.to_path_buf();
                self.files.insert(uri.to_owned(), path);
                Ok(Some(local))
            }
            Err(error) => {
                let failure = (format!("cannot fetch `{location}`: {error}"), error.fix());
                self.failed.insert(uri.to_owned(), failure.clone());
                Err(failure)
            }
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
        let tilde = RemoteLocation::parse("s3://certs/kafka/client~prod.p12")
            .expect("a URI")
            .expect("valid");
        assert_eq!(tilde.key_path().as_ref(), "kafka/client~prod.p12");
        for unfetchable in [
            "s3://certs//ca.pem",
            "s3://certs/a//ca.pem",
            "s3://certs/../ca.pem",
        ] {
            let problem = RemoteLocation::parse(unfetchable)
                .expect("a URI")
                .expect_err("cannot be named");
            assert!(
                problem.contains("cannot be fetched as written"),
                "{problem}"
            );
        }
        let problem = RemoteLocation::parse("https://host/ca.pem")
            .expect("a URI")
            .expect_err("not fetched");
        assert!(problem.contains("only s3:// and gs:// URIs are fetched"));
        // A presigned URL's signature and token, or a password, are not repeated.
        let problem = RemoteLocation::parse(
            "https://user:pw@certs.example/ca.pem?X-Amz-Security-Token=token&X-Amz-Signature=sig",
        )
        .expect("a URI")
        .expect_err("not fetched");
        assert!(
            problem.starts_with("`https://certs.example/ca.pem` is a `https://` URI"),
            "{problem}"
        );
    }

    /// A URI several sources name that cannot be fetched is tried once: each later source is
    /// told the same problem at once, rather than waiting out another fetch.
    #[tokio::test]
    async fn a_uri_that_cannot_be_fetched_is_tried_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        // An S3 endpoint on loopback that refuses every request (403), counting them.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = stream.read(&mut [0u8; 8192]).await;
                let refusal =
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                let _ = stream.write_all(refusal).await;
            }
        });
        let env = StoreEnv::capture(&|var: &str| match var {
            "AWS_ACCESS_KEY_ID" => Some("chalk-test".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("chalk-test-secret".to_owned()),
            "AWS_REGION" => Some("us-east-1".to_owned()),
            "AWS_ENDPOINT" => Some(endpoint.clone()),
            "AWS_ALLOW_HTTP" => Some("true".to_owned()),
            _ => None,
        });
        let mut files = FetchedFiles::default();
        let first = files
            .local_copy("s3://certs/ca.pem", &env)
            .await
            .expect_err("refused");
        let tried = requests.load(Ordering::SeqCst);
        assert!(tried >= 1, "fetched once: {first:?}");
        assert!(first.0.contains("403"), "the endpoint's refusal: {first:?}");
        let again = files
            .local_copy("s3://certs/ca.pem", &env)
            .await
            .expect_err("refused");
        assert_eq!(again, first);
        assert_eq!(requests.load(Ordering::SeqCst), tried, "not fetched again");
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
