//! `KafkaSource`: where a stream reads from, declared as a `static` with a const builder.
//!
//! Every option of Chalk's `KafkaSource` is here with Chalk's default. An option left unset is
//! resolved at start-up from the environment ([`resolve`]), then validated and mapped to
//! librdkafka properties ([`properties`]).

mod client_kind;
mod options;
pub mod properties;
pub(crate) mod property_names;
pub mod remote;
pub mod resolve;
mod secret;
mod settings;
pub(crate) mod topic_name;

use std::fmt;
use std::time::Duration;

use crate::duration::LateArrivalDeadline;

pub use options::{SaslMechanism, SecurityProtocol, StrList};
pub use properties::KafkaProperties;
pub use resolve::{ResolvedSource, SourceError};
pub use secret::Secret;

/// A Kafka source, built in a `const` context:
///
/// ```
/// use chalk_streams::KafkaSource;
/// use std::time::Duration;
///
/// static USER_UPDATES: KafkaSource = KafkaSource::new()
///     .bootstrap_server("kafka.website.com:9092")
///     .topic("user_favorite_color_updates")
///     .late_arrival_deadline(Duration::from_secs(30 * 60));
/// ```
///
/// A source with a [`name`](KafkaSource::name) is a named integration: each option left unset
/// is read from `{name}_KAFKA_{OPTION}` (e.g. `user_updates_KAFKA_BOOTSTRAP_SERVER`); an unnamed
/// source reads `KAFKA_{OPTION}`. Values set in code win.
#[derive(Clone, Copy)]
pub struct KafkaSource {
    pub(crate) name: Option<&'static str>,
    pub(crate) bootstrap_server: Option<StrList>,
    pub(crate) topic: Option<StrList>,
    pub(crate) ssl_keystore_location: Option<&'static str>,
    pub(crate) ssl_keystore_password: Option<&'static str>,
    pub(crate) ssl_ca_file: Option<&'static str>,
    pub(crate) client_id_prefix: Option<&'static str>,
    pub(crate) group_id_prefix: Option<&'static str>,
    pub(crate) security_protocol: Option<SecurityProtocol>,
    pub(crate) sasl_mechanism: Option<SaslMechanism>,
    pub(crate) sasl_username: Option<&'static str>,
    pub(crate) sasl_password: Option<&'static str>,
    pub(crate) late_arrival_deadline: Option<LateArrivalDeadline>,
    pub(crate) dead_letter_queue_topic: Option<&'static str>,
    pub(crate) additional_kafka_args: Option<&'static [(&'static str, &'static str)]>,
}

impl KafkaSource {
    /// A source with every option unset (resolved from the environment or defaulted).
    pub const fn new() -> Self {
        Self {
            name: None,
            bootstrap_server: None,
            topic: None,
            ssl_keystore_location: None,
            ssl_keystore_password: None,
            ssl_ca_file: None,
            client_id_prefix: None,
            group_id_prefix: None,
            security_protocol: None,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            late_arrival_deadline: None,
            dead_letter_queue_topic: None,
            additional_kafka_args: None,
        }
    }

    /// The integration's name: unset options are read from `{name}_KAFKA_{OPTION}`.
    pub const fn name(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// One broker to fetch initial metadata from, `host:port` (no protocol). A comma-separated
    /// list is accepted too.
    pub const fn bootstrap_server(mut self, server: &'static str) -> Self {
        self.bootstrap_server = Some(StrList::One(server));
        self
    }

    /// Several brokers to fetch initial metadata from.
    pub const fn bootstrap_servers(mut self, servers: &'static [&'static str]) -> Self {
        self.bootstrap_server = Some(StrList::Many(servers));
        self
    }

    /// The topic to subscribe to.
    pub const fn topic(mut self, topic: &'static str) -> Self {
        self.topic = Some(StrList::One(topic));
        self
    }

    /// Several topics to subscribe to.
    pub const fn topics(mut self, topics: &'static [&'static str]) -> Self {
        self.topic = Some(StrList::Many(topics));
        self
    }

    /// The PKCS#12 keystore holding the client certificate (security protocol SSL/SASL_SSL):
    /// a local path, or an `s3://bucket/key` or `gs://bucket/key` URI fetched at start-up.
    pub const fn ssl_keystore_location(mut self, location: &'static str) -> Self {
        self.ssl_keystore_location = Some(location);
        self
    }

    /// The password of the PKCS#12 keystore of
    /// [`ssl_keystore_location`](Self::ssl_keystore_location). Never printed. Prefer the
    /// environment variable `{name}_KAFKA_SSL_KEYSTORE_PASSWORD` to a literal in code.
    pub const fn ssl_keystore_password(mut self, password: &'static str) -> Self {
        self.ssl_keystore_password = Some(password);
        self
    }

    /// The CA certificate file used to verify the brokers (security protocol SSL/SASL_SSL): a
    /// local path, or an `s3://bucket/key` or `gs://bucket/key` URI fetched at start-up.
    pub const fn ssl_ca_file(mut self, path: &'static str) -> Self {
        self.ssl_ca_file = Some(path);
        self
    }

    /// Prefix of the client id of each stream's consumer; default `chalk/`. Used as given, even
    /// empty.
    pub const fn client_id_prefix(mut self, prefix: &'static str) -> Self {
        self.client_id_prefix = Some(prefix);
        self
    }

    /// Prefix of the consumer group of each stream; default `chalk/`. Used as given: with `""`
    /// the group is the stream's name alone.
    pub const fn group_id_prefix(mut self, prefix: &'static str) -> Self {
        self.group_id_prefix = Some(prefix);
        self
    }

    /// The security protocol; default [`SecurityProtocol::Plaintext`].
    pub const fn security_protocol(mut self, protocol: SecurityProtocol) -> Self {
        self.security_protocol = Some(protocol);
        self
    }

    /// The SASL mechanism for SASL_PLAINTEXT / SASL_SSL; default [`SaslMechanism::Plain`].
    pub const fn sasl_mechanism(mut self, mechanism: SaslMechanism) -> Self {
        self.sasl_mechanism = Some(mechanism);
        self
    }

    /// The SASL username (PLAIN and SCRAM).
    pub const fn sasl_username(mut self, username: &'static str) -> Self {
        self.sasl_username = Some(username);
        self
    }

    /// The SASL password (PLAIN and SCRAM). Never printed. Prefer the environment variable
    /// `{name}_KAFKA_SASL_PASSWORD` to a literal in code.
    pub const fn sasl_password(mut self, password: &'static str) -> Self {
        self.sasl_password = Some(password);
        self
    }

    /// Messages whose Kafka timestamp is older than this when consumed are skipped before
    /// decoding. For a window stream the deadline counts from the end of the message's window
    /// instead: a message is skipped once its window ended more than this long ago, or more than
    /// `Runtime::window_retention` ago (24 h by default), whichever is sooner. Default: infinity
    /// (every message is processed).
    pub const fn late_arrival_deadline(mut self, deadline: Duration) -> Self {
        self.late_arrival_deadline = Some(LateArrivalDeadline::Within(deadline));
        self
    }

    /// The late-arrival deadline as a Chalk duration string: `"30m"`, `"1h30m"`, `"infinity"`.
    /// A malformed string in a `static` fails to compile.
    ///
    /// # Panics
    ///
    /// On a malformed string, when called outside a constant (a `static` turns the panic into
    /// a compile error). A deadline known only at run time belongs in `KAFKA_LATE_ARRIVAL_DEADLINE`
    /// (or the named source's variable), which is checked at start-up with the other options.
    pub const fn late_arrival_deadline_str(mut self, deadline: &'static str) -> Self {
        self.late_arrival_deadline = Some(match LateArrivalDeadline::parse(deadline) {
            Ok(d) => d,
            Err(_) => panic!(
                "invalid late_arrival_deadline: write a Chalk duration such as \"30m\", \"1h30m\" or \"infinity\""
            ),
        });
        self
    }

    /// Where messages that fail (parse, resolver or store) are sent, with their error.
    pub const fn dead_letter_queue_topic(mut self, topic: &'static str) -> Self {
        self.dead_letter_queue_topic = Some(topic);
        self
    }

    /// Extra consumer properties, e.g. `&[("fetch.min.bytes", "1024")]`. Java-style names that
    /// librdkafka spells differently (`fetch.max.wait.ms`, `receive.buffer.bytes`,
    /// `send.buffer.bytes`) are translated.
    pub const fn additional_kafka_args(
        mut self,
        args: &'static [(&'static str, &'static str)],
    ) -> Self {
        self.additional_kafka_args = Some(args);
        self
    }

    /// The integration name, if this is a named source.
    pub const fn integration_name(&self) -> Option<&'static str> {
        self.name
    }

    /// The environment variable option `option` is read from: `{name}_KAFKA_{OPTION}` for a
    /// named source, else `KAFKA_{OPTION}`.
    pub(crate) fn env_var(&self, option: &str) -> String {
        let option = option.to_ascii_uppercase();
        match self.name {
            Some(name) => format!("{name}_KAFKA_{option}"),
            None => format!("KAFKA_{option}"),
        }
    }
}

impl Default for KafkaSource {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSource")
            .field("name", &self.name)
            .field("bootstrap_server", &self.bootstrap_server)
            .field("topic", &self.topic)
            .field("ssl_keystore_location", &self.ssl_keystore_location)
            .field(
                "ssl_keystore_password",
                &self.ssl_keystore_password.map(|_| secret::REDACTED),
            )
            .field("ssl_ca_file", &self.ssl_ca_file)
            .field("client_id_prefix", &self.client_id_prefix)
            .field("group_id_prefix", &self.group_id_prefix)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field(
                "sasl_password",
                &self.sasl_password.map(|_| secret::REDACTED),
            )
            .field("late_arrival_deadline", &self.late_arrival_deadline)
            .field("dead_letter_queue_topic", &self.dead_letter_queue_topic)
            .field(
                "additional_kafka_args",
                &self.additional_kafka_args.map(secret::RedactedProperties),
            )
            .finish()
    }
}
