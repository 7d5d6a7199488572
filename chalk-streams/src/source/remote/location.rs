//! Where a key file is: `s3://bucket/key` or `gs://bucket/key`, or a local path that must exist.

use std::fmt;
use std::path::Path;

use crate::source::{ResolvedSource, SourceError};

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
    pub(super) const fn credentials_hint(self) -> &'static str {
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
                    "`{}` is a `{other}://` URI; only s3:// and gs:// URIs are fetched",
                    shown(location)
                )))
            }
        };
        Some(match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                // The object store client names a key by its `/`-separated parts: one with an
                // empty part (`a//b`), a `.` or `..` part, or a control character, it cannot
                // name as written.
                match object_store::path::Path::parse(key) {
                    Ok(path) if path.as_ref() == key => Ok(Self {
                        scheme,
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                    }),
                    _ => Err(format!(
                        "`{location}`: the key `{key}` cannot be fetched as written (an empty \
                         part, `//`; a `.` or `..` part; or a control character)"
                    )),
                }
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

    /// The key as the object store client names it: its parts as written, not escaped again
    /// (`Path::from` would escape `~` and the like, and the client escapes them once more).
    pub(super) fn key_path(&self) -> object_store::path::Path {
        // `parse` took the key when the location was made.
        object_store::path::Path::parse(&self.key)
            .unwrap_or_else(|_| object_store::path::Path::from(self.key.as_str()))
    }
}

impl fmt::Display for RemoteLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}/{}", self.scheme.prefix(), self.bucket, self.key)
    }
}

/// `location` fit for errors and logs: without a query (a presigned URL's signature and session
/// token) or a user and password before the host.
pub(super) fn shown(location: &str) -> String {
    let without_query = location.split(['?', '#']).next().unwrap_or_default();
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => without_query.to_owned(),
    }
}
/// The problem and its fix if `uri`, a local path, has nothing there. librdkafka would say only
/// that its TLS setup failed. (A CA location may also be a directory of certificates, or
/// `probe`, librdkafka's search of the usual places.)
pub(super) fn missing_local(uri: &str) -> Option<(String, String)> {
    (uri != "probe" && !Path::new(uri).exists()).then(|| {
        (
            format!("nothing at `{uri}`"),
            "give the path of an existing file, or an s3://bucket/key or gs://bucket/key URI"
                .to_owned(),
        )
    })
}

/// What [`FetchedFiles::localize`] would refuse of `source` without fetching anything: its key
/// files given as local paths with nothing there. For describing a stream (`list`).
pub(crate) fn missing_local_files(source: &ResolvedSource) -> Vec<SourceError> {
    [
        ("ssl_keystore_location", &source.ssl_keystore_location),
        ("ssl_ca_file", &source.ssl_ca_file),
    ]
    .into_iter()
    .filter_map(|(option, location)| {
        let location = location.as_deref()?;
        if RemoteLocation::parse(location).is_some() {
            return None;
        }
        let (problem, fix) = missing_local(location)?;
        Some(SourceError {
            option,
            problem,
            fix,
        })
    })
    .collect()
}
