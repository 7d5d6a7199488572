//! Resolving a source at start-up: explicit values, then environment variables, then defaults;
//! then the checks that catch contradictory options before any client is created.

mod additional_args;
mod consistency;
#[cfg(test)]
mod tests;

use std::fmt;

use super::options::{split_list, SaslMechanism, SecurityProtocol};
use super::secret::RedactedProperties;
use super::{KafkaSource, Secret};
use crate::duration::LateArrivalDeadline;
use additional_args::resolve_additional_args;
use consistency::check_consistency;

/// Chalk's default prefix of client and group ids.
pub const DEFAULT_ID_PREFIX: &str = "chalk/";

/// A source with every option resolved and checked. `Debug` redacts its secrets, those in
/// `additional_kafka_args` included.
#[derive(Clone)]
pub struct ResolvedSource {
    /// The integration name, for named sources.
    pub name: Option<String>,
    /// The brokers to bootstrap from.
    pub bootstrap_servers: Vec<String>,
    /// The topics to subscribe to.
    pub topics: Vec<String>,
    /// The PKCS#12 client keystore: a local path, or an `s3://` / `gs://` URI until it is
    /// fetched at start-up.
    pub ssl_keystore_location: Option<String>,
    /// The password of the PKCS#12 client keystore (never printed).
    pub ssl_keystore_password: Option<Secret>,
    /// The CA file that verifies the brokers: a local path, or an `s3://` / `gs://` URI until
    /// it is fetched at start-up.
    pub ssl_ca_file: Option<String>,
    /// Prefix of client ids.
    pub client_id_prefix: String,
    /// Prefix of group ids.
    pub group_id_prefix: String,
    /// The security protocol.
    pub security_protocol: SecurityProtocol,
    /// The SASL mechanism (used only with a SASL protocol).
    pub sasl_mechanism: SaslMechanism,
    /// The SASL username.
    pub sasl_username: Option<String>,
    /// The SASL password (never printed).
    pub sasl_password: Option<Secret>,
    /// How late a message may be and still be processed.
    pub late_arrival_deadline: LateArrivalDeadline,
    /// Where failed messages go.
    pub dead_letter_queue_topic: Option<String>,
    /// Extra consumer properties, already translated to librdkafka names.
    pub additional_kafka_args: Vec<(String, String)>,
}

impl fmt::Debug for ResolvedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedSource")
            .field("name", &self.name)
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("topics", &self.topics)
            .field("ssl_keystore_location", &self.ssl_keystore_location)
            .field("ssl_keystore_password", &self.ssl_keystore_password)
            .field("ssl_ca_file", &self.ssl_ca_file)
            .field("client_id_prefix", &self.client_id_prefix)
            .field("group_id_prefix", &self.group_id_prefix)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password)
            .field("late_arrival_deadline", &self.late_arrival_deadline)
            .field("dead_letter_queue_topic", &self.dead_letter_queue_topic)
            .field(
                "additional_kafka_args",
                &RedactedProperties(&self.additional_kafka_args),
            )
            .finish()
    }
}

/// One problem with a source's options: which option, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option `{option}`: {problem}; {fix}")]
pub struct SourceError {
    /// The option at fault (as the builder method and Chalk name it).
    pub option: &'static str,
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl SourceError {
    fn new(option: &'static str, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            option,
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// Settings applied on top of every source, e.g. by `run --embedded` or a test.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Brokers to use instead of every source's own.
    pub bootstrap_servers: Option<String>,
    /// Connect without TLS or SASL, whatever the sources say (their security options, and
    /// `additional_kafka_args` under `ssl.` and `sasl.`, are left out): the embedded cluster
    /// takes only plain connections.
    pub plaintext: bool,
}

/// Looks up an environment variable; tests pass a map, the runtime `std::env::var`.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, with empty values treated as unset.
pub fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|value| !value.is_empty())
}

struct Resolver<'a> {
    source: &'a KafkaSource,
    env: EnvLookup<'a>,
    errors: Vec<SourceError>,
}

impl Resolver<'_> {
    /// The variable an option is read from: `{name}_KAFKA_{OPTION}` or `KAFKA_{OPTION}`.
    fn var(&self, option: &str) -> String {
        self.source.env_var(option)
    }

    fn lookup(&self, option: &str) -> Option<(String, String)> {
        let var = self.var(option);
        (self.env)(&var)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (var, v))
    }

    /// An option's text; from the environment, without the spaces around it, which an env
    /// file easily leaves (a group prefix `team/ ` would name a new group, which reads the
    /// topic again from the start).
    fn string(&self, option: &str, explicit: Option<&'static str>) -> Option<String> {
        match explicit.filter(|v| !v.is_empty()) {
            Some(v) => Some(v.to_owned()),
            None => self.lookup(option).map(|(_, v)| v.trim().to_owned()),
        }
    }

    /// A secret's text, as given: a password may begin or end with a space.
    fn secret(&self, option: &str, explicit: Option<&'static str>) -> Option<Secret> {
        match explicit.filter(|v| !v.is_empty()) {
            Some(v) => Some(Secret::new(v.to_owned())),
            None => self.lookup(option).map(|(_, v)| Secret::new(v)),
        }
    }

    /// A client or group id prefix. One given in code is used as it is, even empty (the group
    /// is then the stream's name alone): an existing group is found, not silently replaced by
    /// `chalk/{stream}`, which would read the topic again from the start.
    fn prefix(&self, option: &str, explicit: Option<&'static str>) -> String {
        match explicit {
            Some(prefix) => prefix.to_owned(),
            None => self.lookup(option).map_or_else(
                || DEFAULT_ID_PREFIX.to_owned(),
                |(_, v)| v.trim().to_owned(),
            ),
        }
    }

    fn parsed<T: std::str::FromStr>(
        &mut self,
        option: &'static str,
        explicit: Option<T>,
    ) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        if explicit.is_some() {
            return explicit;
        }
        let (var, text) = self.lookup(option)?;
        match text.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(SourceError::new(
                    option,
                    format!("{var}={text:?} is invalid: {e}"),
                    format!("fix or unset {var}"),
                ));
                None
            }
        }
    }

    fn missing(&self, option: &'static str, what: &str, builder: &str) -> SourceError {
        let var = self.var(option);
        let problem = match self.source.name {
            Some(name) => format!("named source `{name}` has no {what}: {var} is not set"),
            None => format!("no {what} is set"),
        };
        SourceError::new(option, problem, format!("call {builder} or set {var}"))
    }
}

impl KafkaSource {
    /// Resolves every option from code, then the environment (`env`), then the defaults, and
    /// checks the result. All problems are returned at once.
    pub fn resolve(
        &self,
        env: EnvLookup<'_>,
        overrides: &Overrides,
    ) -> Result<ResolvedSource, Vec<SourceError>> {
        let (resolved, errors) = self.resolve_as_far_as_it_goes(env, overrides);
        if errors.is_empty() {
            Ok(resolved)
        } else {
            Err(errors)
        }
    }

    /// Every option resolved as [`resolve`](Self::resolve) does, with the problems found: an
    /// option a problem names holds its default, or what was found wrong.
    pub(crate) fn resolve_as_far_as_it_goes(
        &self,
        env: EnvLookup<'_>,
        overrides: &Overrides,
    ) -> (ResolvedSource, Vec<SourceError>) {
        let mut r = Resolver {
            source: self,
            env,
            errors: Vec::new(),
        };

        let bootstrap_servers = match (&overrides.bootstrap_servers, self.bootstrap_server) {
            (Some(forced), _) => split_list(forced),
            (None, Some(list)) => list.to_vec(),
            (None, None) => r
                .lookup("bootstrap_server")
                .map(|(_, v)| split_list(&v))
                .unwrap_or_default(),
        };
        if bootstrap_servers.is_empty() {
            let e = r.missing(
                "bootstrap_server",
                "bootstrap server",
                ".bootstrap_server(\"host:port\")",
            );
            r.errors.push(e);
        }
        let topics = resolve_topics(&mut r);
        let security_protocol = r.parsed("security_protocol", self.security_protocol);
        let explicit_mechanism = r.parsed("sasl_mechanism", self.sasl_mechanism);
        let late_arrival_deadline = r
            .parsed("late_arrival_deadline", self.late_arrival_deadline)
            .unwrap_or_default();
        let additional_kafka_args = resolve_additional_args(&mut r);

        let resolved = ResolvedSource {
            name: self.name.map(str::to_owned),
            bootstrap_servers,
            topics,
            ssl_keystore_location: r.string("ssl_keystore_location", self.ssl_keystore_location),
            ssl_keystore_password: r.secret("ssl_keystore_password", self.ssl_keystore_password),
            ssl_ca_file: r.string("ssl_ca_file", self.ssl_ca_file),
            client_id_prefix: r.prefix("client_id_prefix", self.client_id_prefix),
            group_id_prefix: r.prefix("group_id_prefix", self.group_id_prefix),
            security_protocol: security_protocol.unwrap_or_default(),
            sasl_mechanism: explicit_mechanism.unwrap_or_default(),
            sasl_username: r.string("sasl_username", self.sasl_username),
            sasl_password: r.secret("sasl_password", self.sasl_password),
            late_arrival_deadline,
            dead_letter_queue_topic: r
                .string("dead_letter_queue_topic", self.dead_letter_queue_topic),
            additional_kafka_args,
        };
        let mut resolved = resolved;
        if overrides.plaintext {
            resolved.without_security();
        }
        check_consistency(
            &mut r,
            &resolved,
            explicit_mechanism.is_some() && !overrides.plaintext,
        );
        (resolved, r.errors)
    }
}

impl ResolvedSource {
    /// Drops every security setting: plain connections, no login, no key files.
    fn without_security(&mut self) {
        self.security_protocol = SecurityProtocol::Plaintext;
        self.sasl_mechanism = SaslMechanism::default();
        self.sasl_username = None;
        self.sasl_password = None;
        self.ssl_keystore_location = None;
        self.ssl_keystore_password = None;
        self.ssl_ca_file = None;
        self.additional_kafka_args
            .retain(|(key, _)| !key.starts_with("ssl") && !key.starts_with("sasl."));
    }
}

/// What a source says of its stream without brokers or credentials: enough for a broker-free
/// test and for documentation.
pub(crate) struct BrokerFree {
    pub(crate) topics: Vec<String>,
    pub(crate) late_arrival_deadline: LateArrivalDeadline,
    pub(crate) group_id_prefix: String,
}

impl KafkaSource {
    /// Only the topics, the late-arrival deadline and the group prefix: brokers and security
    /// are left alone, so that a broker-free test or a document needs no credentials.
    pub(crate) fn resolve_broker_free(
        &self,
        env: EnvLookup<'_>,
    ) -> Result<BrokerFree, Vec<SourceError>> {
        let mut r = Resolver {
            source: self,
            env,
            errors: Vec::new(),
        };
        let topics = resolve_topics(&mut r);
        let late_arrival_deadline = r
            .parsed("late_arrival_deadline", self.late_arrival_deadline)
            .unwrap_or_default();
        let group_id_prefix = r.prefix("group_id_prefix", self.group_id_prefix);
        if r.errors.is_empty() {
            Ok(BrokerFree {
                topics,
                late_arrival_deadline,
                group_id_prefix,
            })
        } else {
            Err(r.errors)
        }
    }
}

fn resolve_topics(r: &mut Resolver<'_>) -> Vec<String> {
    let mut topics = match r.source.topic {
        Some(list) => list.to_vec(),
        None => r
            .lookup("topic")
            .map(|(_, v)| split_list(&v))
            .unwrap_or_default(),
    };
    // Each once, in the order given: a topic named twice is read once.
    let mut seen = std::collections::HashSet::new();
    topics.retain(|topic| seen.insert(topic.clone()));
    if topics.is_empty() {
        let e = r.missing("topic", "topic", ".topic(\"name\")");
        r.errors.push(e);
    }
    for topic in &topics {
        if let Err(problem) = super::topic_name::check(topic) {
            r.errors.push(SourceError::new(
                "topic",
                problem,
                "name the topic as it is on the brokers",
            ));
        }
    }
    topics
}
