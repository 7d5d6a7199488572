//! Every `#[stream]` in the program, collected before `main` by `inventory`.

use std::collections::BTreeMap;
use std::fmt;

use crate::output::StreamEntity;
use crate::resolver::Resolver;
use crate::source::KafkaSource;

/// One declared stream resolver: what `#[stream]` registers.
#[derive(Debug)]
pub struct StreamDescriptor {
    name: &'static str,
    function: &'static str,
    source: &'static KafkaSource,
    resolver: Resolver,
    file: &'static str,
    line: u32,
    windows: &'static [&'static str],
    timeout: Option<std::time::Duration>,
    entity: Option<StreamEntity>,
    payload_schema: Option<fn() -> serde_json::Value>,
}

impl StreamDescriptor {
    /// A descriptor. Called by generated code; `name` is `module::function` unless the
    /// attribute names the stream.
    pub const fn new(
        name: &'static str,
        function: &'static str,
        source: &'static KafkaSource,
        resolver: Resolver,
        file: &'static str,
        line: u32,
    ) -> Self {
        Self {
            name,
            function,
            source,
            resolver,
            file,
            line,
            windows: &[],
            timeout: None,
            entity: None,
            payload_schema: None,
        }
    }

    /// Gives an async resolver a time limit per message (per window, for a window stream).
    pub const fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long the resolver may take on one message (or window) before that message (or
    /// window) fails in phase `resolver`; `None` for no limit (and for sync resolvers).
    pub fn timeout(&self) -> Option<std::time::Duration> {
        self.timeout
    }

    /// Gives the stream's payload JSON Schema (for the AsyncAPI document).
    pub const fn with_payload_schema(mut self, schema: fn() -> serde_json::Value) -> Self {
        self.payload_schema = Some(schema);
        self
    }

    /// The JSON Schema of the stream's payload: the type's own when it derives
    /// `schemars::JsonSchema`, else the empty schema (any JSON).
    pub fn payload_schema(&self) -> serde_json::Value {
        self.payload_schema
            .map_or_else(|| serde_json::json!({}), |schema| schema())
    }

    /// Makes this a window stream with tumbling windows of these sizes (Chalk duration
    /// strings, checked at compile time by `#[stream]`).
    pub const fn with_windows(mut self, windows: &'static [&'static str]) -> Self {
        self.windows = windows;
        self
    }

    /// Records the entity the stream writes (`#[stream]` gives its return type's).
    pub const fn with_entity(mut self, entity: StreamEntity) -> Self {
        self.entity = Some(entity);
        self
    }

    /// The entity the stream writes and the features it may set; `None` for a descriptor built
    /// by hand without [`with_entity`](Self::with_entity).
    pub fn entity(&self) -> Option<StreamEntity> {
        self.entity
    }

    /// The names the stream stores its features under: a window stream's are `feature[size]`
    /// for each of its window sizes (`logins[10m]`), a mapping stream's the fields' names.
    pub fn stored_features(&self) -> Vec<&'static str> {
        let features = self.entity.map_or(&[][..], |entity| entity.features);
        if self.windows.is_empty() {
            return features.to_vec();
        }
        features
            .iter()
            .flat_map(|feature| {
                self.windows
                    .iter()
                    .map(|size| crate::runtime::window_resolver::windowed_name(feature, size))
            })
            .collect()
    }

    /// The window sizes of a window stream, as written; empty for a mapping stream.
    pub fn windows(&self) -> &'static [&'static str] {
        self.windows
    }

    /// The stream's name: its consumer group is `{group_id_prefix}{name}`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The resolver function's path, `module::function`.
    pub fn function(&self) -> &'static str {
        self.function
    }

    /// The Kafka source it consumes.
    pub fn source(&self) -> &'static KafkaSource {
        self.source
    }

    /// The resolver the runtime calls for each message.
    pub fn resolver(&self) -> Resolver {
        self.resolver
    }

    /// Where the stream is declared, `file:line`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

inventory::collect!(StreamDescriptor);

/// A start-up problem with the set of declared streams.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// No `#[stream]` is linked into the program.
    #[error(
        "no streams are registered: annotate a function with #[stream(source = ...)]; \
         a #[stream] in a library crate needs a `use` of that crate from the binary so that it is linked"
    )]
    Empty,
    /// Two streams share a name, so they would share a consumer group.
    #[error(
        "two streams are named `{name}` ({first} and {second}): each stream needs its own consumer group; \
         give one of them #[stream(name = \"...\")]"
    )]
    Duplicate {
        /// The shared name.
        name: &'static str,
        /// Where the first is declared.
        first: String,
        /// Where the second is declared.
        second: String,
    },
    /// `--only` named a stream that does not exist.
    #[error("no stream is named `{name}`{hint}; registered streams: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// A did-you-mean hint, or empty.
        hint: String,
        /// The registered names, comma-separated.
        known: String,
    },
    /// A window size that is not a positive duration (possible only in a descriptor built by
    /// hand: `#[stream]` checks its sizes at compile time).
    #[error(
        "stream `{name}` ({location}) has window `{size}`: a window size is a positive duration \
         such as \"10m\""
    )]
    BadWindow {
        /// The stream.
        name: &'static str,
        /// Where it is declared.
        location: String,
        /// The size.
        size: &'static str,
    },
}

/// The validated set of declared streams, sorted by name.
#[derive(Clone)]
pub struct Registry {
    streams: Vec<&'static StreamDescriptor>,
    /// The declared streams `select` left out: one whose consumer group a selected stream
    /// would share (run by another process) is still refused.
    left_out: Vec<&'static StreamDescriptor>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.streams.iter().map(|s| s.name))
            .finish()
    }
}

impl Registry {
    /// Every stream registered in this program, checked for emptiness and duplicate names.
    pub fn collect() -> Result<Self, RegistryError> {
        Self::from_descriptors(inventory::iter::<StreamDescriptor>.into_iter().collect())
    }

    /// A registry over the given descriptors, with the same checks as [`Registry::collect`].
    pub fn from_descriptors(
        mut streams: Vec<&'static StreamDescriptor>,
    ) -> Result<Self, RegistryError> {
        if streams.is_empty() {
            return Err(RegistryError::Empty);
        }
        streams.sort_by_key(|s| (s.name, s.file, s.line));
        let mut seen: BTreeMap<&str, &StreamDescriptor> = BTreeMap::new();
        for stream in &streams {
            let bad = stream.windows.iter().find(|size| {
                crate::duration::parse_duration(size).map_or(true, |size| size.is_zero())
            });
            if let Some(size) = bad {
                return Err(RegistryError::BadWindow {
                    name: stream.name,
                    location: stream.location(),
                    size,
                });
            }
            if let Some(first) = seen.insert(stream.name, stream) {
                return Err(RegistryError::Duplicate {
                    name: stream.name,
                    first: first.location(),
                    second: stream.location(),
                });
            }
        }
        let left_out = Vec::new();
        Ok(Self { streams, left_out })
    }

    /// The streams, sorted by name.
    pub fn streams(&self) -> &[&'static StreamDescriptor] {
        &self.streams
    }

    /// The stream called `name`.
    pub fn get(&self, name: &str) -> Option<&'static StreamDescriptor> {
        self.streams.iter().copied().find(|s| s.name == name)
    }

    /// Only the named streams; every name must exist. An empty list keeps every stream.
    pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<Self, RegistryError> {
        if names.is_empty() {
            return Ok(self.clone());
        }
        let mut streams = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            let stream = self.get(name).ok_or_else(|| self.unknown(name))?;
            if !streams.iter().any(|s: &&StreamDescriptor| s.name == name) {
                streams.push(stream);
            }
        }
        let left_out = (self.streams.iter().chain(&self.left_out))
            .filter(|s| !streams.iter().any(|kept| std::ptr::eq(*kept, **s)))
            .copied()
            .collect();
        Ok(Self { streams, left_out })
    }

    /// The declared streams [`select`](Self::select) left out.
    pub(crate) fn left_out(&self) -> &[&'static StreamDescriptor] {
        &self.left_out
    }

    /// The features that more than one of these streams write, as `(entity, feature)` with the
    /// streams' names. In the store, the value with the newer feature time wins, whichever
    /// stream wrote it: often what is meant (one feature fed from two topics), sometimes not.
    pub fn features_written_by_several(
        &self,
    ) -> BTreeMap<(&'static str, &'static str), Vec<&'static str>> {
        let mut writers: BTreeMap<(&'static str, &'static str), Vec<&'static str>> =
            BTreeMap::new();
        for stream in &self.streams {
            let Some(entity) = stream.entity else {
                continue;
            };
            for feature in stream.stored_features() {
                writers
                    .entry((entity.namespace, feature))
                    .or_default()
                    .push(stream.name);
            }
        }
        writers.retain(|_, streams| streams.len() > 1);
        writers
    }

    /// The streams whose entity has no feature besides its key: they store nothing. (`#[derive(
    /// Features)]` takes such a struct; `run` warns at start.)
    pub fn streams_storing_nothing(&self) -> Vec<&'static str> {
        self.streams
            .iter()
            .filter(|stream| {
                stream
                    .entity
                    .is_some_and(|entity| entity.features.is_empty())
            })
            .map(|stream| stream.name)
            .collect()
    }

    fn unknown(&self, name: &str) -> RegistryError {
        let names = self.streams.iter().map(|s| s.name);
        let hint = crate::suggest::closest_stream(name, names.clone())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        RegistryError::Unknown {
            name: name.to_owned(),
            hint,
            known: names.collect::<Vec<_>>().join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolver::MessageError;

    fn never(
        _: &crate::message::RawMessage<'_>,
        _: &mut Vec<crate::FeatureRow>,
    ) -> Result<(), MessageError> {
        Ok(())
    }

    static SOURCE: KafkaSource = KafkaSource::new();

    const fn stream(name: &'static str, features: &'static [&'static str]) -> StreamDescriptor {
        StreamDescriptor::new(name, name, &SOURCE, Resolver::Sync(never), "src/a.rs", 1)
            .with_entity(StreamEntity {
                namespace: "user",
                features,
            })
    }

    static COLOR: StreamDescriptor = stream("color", &["favorite_color"]);
    static PROFILE: StreamDescriptor = stream("profile", &["favorite_color", "age"]);
    static LOGINS: StreamDescriptor = stream("logins", &["age_of_account", "logins"]);
    static COLOR_BY_HOUR: StreamDescriptor =
        stream("color_by_hour", &["favorite_color"]).with_windows(&["1h"]);

    #[test]
    fn a_window_size_that_is_no_positive_duration_is_refused() {
        static ZERO: StreamDescriptor = stream("zero", &[]).with_windows(&["10m", "0s"]);
        static GIBBERISH: StreamDescriptor = stream("gibberish", &[]).with_windows(&["soon"]);
        for (descriptor, size) in [(&ZERO, "0s"), (&GIBBERISH, "soon")] {
            let error = Registry::from_descriptors(vec![&COLOR, descriptor]).expect_err(size);
            assert!(
                matches!(error, RegistryError::BadWindow { size: s, .. } if s == size),
                "{error}"
            );
        }
        assert_eq!(
            Registry::from_descriptors(vec![&ZERO])
                .expect_err("0s")
                .to_string(),
            "stream `zero` (src/a.rs:1) has window `0s`: a window size is a positive duration \
             such as \"10m\""
        );
    }

    #[test]
    fn a_stream_whose_entity_has_only_a_key_is_found() {
        static KEY_ONLY: StreamDescriptor = stream("key_only", &[]);
        let registry = Registry::from_descriptors(vec![&COLOR, &KEY_ONLY]).expect("valid");
        assert_eq!(registry.streams_storing_nothing(), ["key_only"]);
    }

    #[test]
    fn a_feature_two_streams_write_is_found() {
        // A window stream stores its features under names of its own (`favorite_color[1h]`).
        let streams = vec![&COLOR, &PROFILE, &LOGINS, &COLOR_BY_HOUR];
        let registry = Registry::from_descriptors(streams).expect("valid");
        assert_eq!(COLOR_BY_HOUR.stored_features(), ["favorite_color[1h]"]);
        let shared: Vec<_> = registry.features_written_by_several().into_iter().collect();
        assert_eq!(
            shared,
            [(("user", "favorite_color"), vec!["color", "profile"])]
        );
    }
}
