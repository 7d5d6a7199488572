//! Probing a source's brokers before using them: connect, authenticate and describe topics within
//! a deadline, keeping librdkafka's reports instead of printing them, so that a wrong password or
//! address is one clear line instead of a client retrying and logging forever. `check` and the
//! runtime's start-up both use it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use crate::source::{KafkaProperties, ResolvedSource};

/// How long one metadata request may take before the probe looks at what librdkafka reported.
const PROBE_SLICE: Duration = Duration::from_millis(250);
/// How many queued events (errors, logs) the probe serves between two metadata requests.
const QUEUE_EVENTS_PER_SLICE: usize = 64;

/// Keeps the errors and warnings librdkafka reports, so that a command prints one clear line
/// instead of a stream of log lines, and can tell a refused connection from a failed login.
#[derive(Debug, Default, Clone)]
pub(crate) struct QuietContext {
    events: Arc<Mutex<Vec<Event>>>,
}

/// An error or a log line of warning level or worse, as librdkafka reported it.
#[derive(Debug, Clone)]
struct Event {
    code: Option<RDKafkaErrorCode>,
    text: String,
}

impl QuietContext {
    fn push(&self, event: Event) {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A client retrying for a while reports the same failure many times: keep a bounded few.
        if events.len() < 256 {
            events.push(event);
        }
    }

    fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Why the brokers cannot be used, if librdkafka has said so: authentication failed, or no
    /// broker could be connected to.
    pub(crate) fn connection_failure(&self) -> Option<ConnectionFailure> {
        let events = self.events();
        // librdkafka's error reports decide; its log lines only when they do not. A connection
        // that broke during the login decides only when it broke again: once may be a broker
        // restarting or a load balancer dropping it.
        // Error reports only: librdkafka logs the same failure as a line too.
        let broke_in_login = events
            .iter()
            .filter(|e| e.code.is_some() && e.broke_in_login())
            .count();
        let is_login_failure =
            |e: &&Event| e.is_authentication() || (e.broke_in_login() && broke_in_login > 1);
        let failed_login = events
            .iter()
            .filter(|e| e.code.is_some())
            .find(is_login_failure);
        if let Some(event) = failed_login {
            return Some(ConnectionFailure::Authentication(event.detail()));
        }
        // A TLS handshake that failed (a certificate not verified), or that the broker ended
        // with an alert (a client certificate refused or missing), fails again the same way: no
        // retry will get past it. (A connection that merely broke during the handshake is
        // reported as a transport error, and waited out.)
        if let Some(event) = events.iter().find(|e| {
            e.code == Some(RDKafkaErrorCode::SSL)
                || (e.code.is_some() && e.text.contains("SSL alert number"))
        }) {
            return Some(ConnectionFailure::Tls(event.detail()));
        }
        if events
            .iter()
            .any(|e| e.code == Some(RDKafkaErrorCode::AllBrokersDown))
        {
            return Some(ConnectionFailure::Unreachable(unreachable_cause(&events)));
        }
        events
            .iter()
            .find(is_login_failure)
            .map(|event| ConnectionFailure::Authentication(event.detail()))
    }

    /// The last error librdkafka reported, for a message that has no better explanation.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.events()
            .into_iter()
            .rev()
            .find(|e| e.code.is_some())
            .map(|e| e.detail())
    }
}

impl Event {
    /// The report without what varies from one run to the next or repeats the broker address:
    /// the `FAC: [thrd:...]: ` and `[proto://]host:port/id: ` prefixes and the
    /// `(after Nms in state X)` suffix.
    fn detail(&self) -> String {
        let mut text = self.text.as_str();
        if let Some(at) = text.find("]: ") {
            if text[..at].contains("[thrd:") {
                text = &text[at + 3..];
            }
        }
        if let Some((head, rest)) = text.split_once(": ") {
            // `sasl_plaintext://host:port/bootstrap`, `host:port/1`: a broker's name.
            if !head.contains(' ') && head.contains('/') {
                text = rest;
            }
        }
        if let Some(at) = text.rfind(" (after ") {
            if text.ends_with(')') && text[at..].contains(" in state ") {
                text = &text[..at];
            }
        }
        text.trim().to_owned()
    }

    /// A failed login: librdkafka's authentication error, or its report of one.
    fn is_authentication(&self) -> bool {
        self.code == Some(RDKafkaErrorCode::Authentication)
            || self.text.contains("Authentication")
            || self.text.contains("SASL")
    }

    /// A connection that broke while the SASL handshake or authentication was under way
    /// (librdkafka names the broker state `AUTH_HANDSHAKE`, `AUTH_LEGACY` or `AUTH_REQ`).
    fn broke_in_login(&self) -> bool {
        self.text.contains("in state AUTH_")
    }
}

/// The likeliest reason no broker answered, from librdkafka's reports.
fn unreachable_cause(events: &[Event]) -> String {
    let says = |needle: &str| events.iter().any(|e| e.text.contains(needle));
    if says("Connection refused") {
        "connection refused".to_owned()
    } else if says("Failed to resolve")
        || events
            .iter()
            .any(|e| e.code == Some(RDKafkaErrorCode::Resolve))
    {
        "the host name does not resolve".to_owned()
    } else if says("timed out") {
        "the connection timed out".to_owned()
    } else {
        events
            .iter()
            .rev()
            .find(|e| e.code.is_some() && e.code != Some(RDKafkaErrorCode::AllBrokersDown))
            .map_or_else(|| "no broker is up".to_owned(), Event::detail)
    }
}

impl ClientContext for QuietContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
            self.push(Event {
                code: None,
                text: format!("{facility}: {message}"),
            });
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.push(Event {
            code: error.rdkafka_error_code(),
            text: reason.to_owned(),
        });
    }
}

impl ConsumerContext for QuietContext {}

/// Why a source's brokers cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConnectionFailure {
    /// A broker was reached but the login failed; librdkafka's explanation.
    Authentication(String),
    /// A broker was reached but the TLS handshake failed; librdkafka's explanation.
    Tls(String),
    /// No broker could be connected to; the likeliest cause.
    Unreachable(String),
    /// No answer within the deadline; librdkafka's last error, if any.
    Timeout(Duration, Option<String>),
    /// The client could not be created (a property librdkafka rejects).
    Client(String),
}

impl ConnectionFailure {
    /// One clause saying what failed with `brokers`.
    pub(crate) fn describe(&self, brokers: &str) -> String {
        match self {
            Self::Authentication(detail) => format!("authentication failed at {brokers}: {detail}"),
            Self::Tls(detail) => format!("the TLS handshake with {brokers} failed: {detail}"),
            Self::Unreachable(cause) => format!("cannot connect to {brokers}: {cause}"),
            Self::Timeout(timeout, last) => {
                let last = last
                    .as_ref()
                    .map(|last| format!(" (last error: {last})"))
                    .unwrap_or_default();
                let timeout = humantime::format_duration(*timeout);
                format!("no answer from {brokers} within {timeout}{last}")
            }
            Self::Client(error) => {
                format!("the Kafka client rejected its configuration: {error}")
            }
        }
    }
}

/// What the brokers say about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TopicState {
    /// The topic exists with this many partitions.
    Exists(usize),
    /// The brokers do not know the topic.
    Missing,
    /// The brokers refuse to describe it to this client (ACLs).
    NotAuthorized,
    /// Another error, as the brokers reported it.
    Failed(String),
}

/// Connects with `properties` (a source's connection properties) and describes `topics`, all
/// within `timeout`. Blocking: call it from `spawn_blocking`. Never creates a topic.
pub(crate) fn probe(
    properties: &KafkaProperties,
    topics: &[String],
    timeout: Duration,
) -> Result<Vec<(String, TopicState)>, ConnectionFailure> {
    let mut properties = properties.clone();
    // Describing a missing topic must not create it.
    properties.set("allow.auto.create.topics", "false");
    let setup_ms = timeout.as_millis().clamp(1000, 60_000);
    properties.set("socket.connection.setup.timeout.ms", setup_ms.to_string());
    let context = QuietContext::default();
    let consumer: BaseConsumer<QuietContext> = properties
        .to_client_config()
        .create_with_context(context.clone())
        .map_err(|e| ConnectionFailure::Client(e.to_string()))?;
    let deadline = Instant::now() + timeout.min(crate::runtime::clock::LONGEST_WAIT);
    let mut states = Vec::with_capacity(topics.len());
    for topic in topics {
        let state = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match consumer.fetch_metadata(Some(topic), left.min(PROBE_SLICE)) {
                Ok(metadata) => {
                    let described = metadata.topics().iter().find(|t| t.name() == topic);
                    break match described {
                        None => TopicState::Missing,
                        Some(t) => match t.error().map(RDKafkaErrorCode::from) {
                            None => TopicState::Exists(t.partitions().len()),
                            Some(RDKafkaErrorCode::UnknownTopicOrPartition) => TopicState::Missing,
                            Some(RDKafkaErrorCode::TopicAuthorizationFailed) => {
                                TopicState::NotAuthorized
                            }
                            Some(code) => TopicState::Failed(code.to_string()),
                        },
                    };
                }
                Err(_) => {
                    // Serve the client's queue: errors and logs reach the context this way, one
                    // event per call.
                    for _ in 0..QUEUE_EVENTS_PER_SLICE {
                        let _ = consumer.poll(Duration::ZERO);
                    }
                    if let Some(failure) = context.connection_failure() {
                        return Err(failure);
                    }
                    if Instant::now() >= deadline {
                        return Err(ConnectionFailure::Timeout(timeout, context.last_error()));
                    }
                }
            }
        };
        states.push((topic.clone(), state));
    }
    drop(consumer);
    Ok(states)
}

impl ConnectionFailure {
    /// One clause saying what failed with `source`'s brokers; a failed login names the user and
    /// the security settings tried (never the password).
    pub(crate) fn describe_for(&self, source: &ResolvedSource) -> String {
        let brokers = source.bootstrap_servers.join(",");
        match self {
            Self::Authentication(detail) => {
                let user = source
                    .sasl_username
                    .as_deref()
                    .map(|u| format!(" as `{u}`"))
                    .unwrap_or_default();
                format!(
                    "authentication failed at {brokers}{user} ({}, {}): {detail}",
                    source.security_protocol, source.sasl_mechanism
                )
            }
            other => other.describe(&brokers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(events: &[(Option<RDKafkaErrorCode>, &str)]) -> QuietContext {
        let context = QuietContext::default();
        for (code, text) in events {
            context.push(Event {
                code: *code,
                text: (*text).to_owned(),
            });
        }
        context
    }

    const DROPPED: &str =
        "sasl_plaintext://127.0.0.1:9092/bootstrap: Disconnected (after 3ms in state AUTH_REQ)";

    #[test]
    fn a_connection_broken_once_during_the_login_is_no_failed_login() {
        let transport = Some(RDKafkaErrorCode::BrokerTransportFailure);
        assert_eq!(context(&[(transport, DROPPED)]).connection_failure(), None);
        assert!(matches!(
            context(&[(transport, DROPPED), (transport, DROPPED)]).connection_failure(),
            Some(ConnectionFailure::Authentication(_))
        ));
        // Reported once as an error and once as a log line: still once.
        assert_eq!(
            context(&[(transport, DROPPED), (None, DROPPED)]).connection_failure(),
            None
        );
        let refused = "SASL authentication error: SASL SCRAM authentication failed";
        assert!(matches!(
            context(&[(Some(RDKafkaErrorCode::Authentication), refused)]).connection_failure(),
            Some(ConnectionFailure::Authentication(detail)) if detail == refused
        ));
    }
}
