//! `push --topic T`: produces each non-empty line of a file (or standard input) as one message
//! and waits until every one is acknowledged.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;

use super::kafka::{error_text, message_timeout_ms, producer, QuietContext};
use crate::error::{Error, Result};
use crate::probe::{ConnectionFailure, TopicState};
use crate::registry::Registry;
use crate::runtime::Runtime;
use crate::source::remote::{localize_plans, FetchedFiles, StoreEnv};
use crate::source::resolve::process_env;
use crate::source::KafkaProperties;

/// A topic name Kafka allows, for clap.
fn topic_name(text: &str) -> Result<String, String> {
    crate::source::topic_name::check(text).map(|()| text.to_owned())
}

/// How long `push` gives the brokers to answer before it sends (at most its `--timeout`).
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `push` waits before offering a message again when the producer's queue is full.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(10);

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The brokers are the --bootstrap ones (PLAINTEXT), or else those of the first registered stream \
(by name) that reads the topic, with its source's security settings.")]
pub(super) struct PushArgs {
    /// The topic to produce to.
    #[arg(long, value_name = "TOPIC", value_parser = topic_name)]
    topic: String,
    /// The key of every message (by default messages have no key).
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
    /// The file to read, one message per non-empty line; `-` reads standard input
    /// [default: standard input].
    #[arg(long, value_name = "FILE")]
    file: Option<String>,
    /// `-`: read standard input (the same as --file -).
    #[arg(value_name = "-", value_parser = ["-"], conflicts_with = "file")]
    stdin: Option<String>,
    /// The brokers, `HOST:PORT[,HOST:PORT...]`, reached with PLAINTEXT, instead of the source of
    /// a stream that reads the topic.
    #[arg(long, value_name = "HOST:PORT")]
    bootstrap: Option<String>,
    /// How long each message may take to be acknowledged, e.g. `30s`.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::parse_timeout)]
    timeout: std::time::Duration,
}

pub(super) async fn run(args: &PushArgs) -> Result<()> {
    // `_remote_files`: private copies of s3:// and gs:// keystores and CA files, until the end.
    let (mut properties, brokers, _remote_files) = connection(args).await?;
    let lines = read_lines(args.file.as_deref().unwrap_or("-"))?;
    let timeout: Duration = args.timeout;
    if let Some(failure) = unreachable(&properties, &args.topic, timeout).await {
        return Err(Error::Kafka(format!(
            "nothing sent to `{}`: {}",
            args.topic,
            failure.describe(&brokers)
        )));
    }
    properties.set("acks", "all");
    properties.set("enable.idempotence", "true");
    properties.set("message.timeout.ms", message_timeout_ms(timeout));
    let context = QuietContext::default();
    let producer = producer(&properties, context.clone())?;

    let total = lines.len();
    let mut deliveries = Vec::with_capacity(total);
    let mut failures: Vec<String> = Vec::new();
    for line in &lines {
        let mut record = FutureRecord::<[u8], [u8]>::to(&args.topic).payload(line.as_slice());
        if let Some(key) = &args.key {
            record = record.key(key.as_bytes());
        }
        // Offered one by one, in order: messages of one key keep the order of the lines.
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    deliveries.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(QUEUE_FULL_PAUSE).await;
                }
                Err((error, _)) => {
                    failures.push(error_text(&error));
                    break;
                }
            }
        }
    }
    for delivery in futures::future::join_all(deliveries).await {
        match delivery {
            Ok(Ok(_)) => {}
            Ok(Err((error, _))) => failures.push(error_text(&error)),
            Err(_) => failures.push("the producer was closed before the acknowledgement".into()),
        }
    }
    drop(producer);

    let acknowledged = total - failures.len();
    let plural = if total == 1 { "" } else { "s" };
    crate::cli::stdout::print(format_args!(
        "{acknowledged} of {total} message{plural} acknowledged by topic `{}`\n",
        args.topic
    ))?;
    match failures.first() {
        None => Ok(()),
        Some(first) => {
            let cause = match context.connection_failure() {
                Some(failure) => format!("; {}", failure.describe(&brokers)),
                None => missing_topic(&properties, &args.topic, &brokers).await,
            };
            Err(Error::Kafka(format!(
                "{} of {total} message{plural} to `{}` not acknowledged: {first}{cause}",
                failures.len(),
                args.topic
            )))
        }
    }
}

/// Why the brokers cannot be used at all (nothing answers, within the timeout or at all, or they
/// refuse the credentials), asked before sending: a producer would only say so once every
/// message had waited out its timeout. A topic that does not exist is no reason: a broker may
/// create it on the first message.
async fn unreachable(
    properties: &KafkaProperties,
    topic: &str,
    timeout: Duration,
) -> Option<ConnectionFailure> {
    let (properties, topics) = (properties.clone(), vec![topic.to_owned()]);
    let bound = timeout.min(PROBE_TIMEOUT);
    let probed =
        tokio::task::spawn_blocking(move || crate::probe::probe(&properties, &topics, bound)).await;
    match probed {
        Ok(Err(
            failure @ (ConnectionFailure::Unreachable(_)
            | ConnectionFailure::Authentication(_)
            | ConnectionFailure::Tls(_)
            | ConnectionFailure::Timeout(..)),
        )) => Some(failure),
        _ => None,
    }
}

/// `; topic `T` does not exist on B` when that is why messages were not acknowledged: a
/// producer waits for a missing topic until its messages time out, and says only that.
async fn missing_topic(properties: &KafkaProperties, topic: &str, brokers: &str) -> String {
    let (properties, topics) = (properties.clone(), vec![topic.to_owned()]);
    let described = tokio::task::spawn_blocking(move || {
        crate::probe::probe(&properties, &topics, Duration::from_secs(5))
    })
    .await;
    match described {
        Ok(Ok(states)) if matches!(states.first(), Some((_, TopicState::Missing))) => {
            format!("; topic `{topic}` does not exist on {brokers}: create it first")
        }
        _ => String::new(),
    }
}

/// The connection properties for the topic: `--bootstrap`, or the source of a stream reading it.
/// Also returns the brokers, for messages, and the local copies of the source's remote files.
async fn connection(args: &PushArgs) -> Result<(KafkaProperties, String, FetchedFiles)> {
    if let Some(bootstrap) = &args.bootstrap {
        let mut properties = KafkaProperties::default();
        properties.set("bootstrap.servers", bootstrap);
        properties.set("client.id", "chalk/push");
        return Ok((properties, bootstrap.clone(), FetchedFiles::default()));
    }
    let registry = Registry::collect()?;
    let mut problems = Vec::new();
    for stream in registry.streams() {
        // Each stream alone: a misconfigured stream elsewhere does not stop a push.
        match Runtime::new(registry.select(&[stream.name()])?).plan() {
            Ok(plans) => {
                if let Some(mut plan) = plans
                    .into_iter()
                    .find(|p| p.source.topics.contains(&args.topic))
                {
                    let files = localize_plans(
                        std::slice::from_mut(&mut plan),
                        &StoreEnv::capture(&process_env),
                    )
                    .await?;
                    let mut properties = plan.source.producer_properties();
                    properties.set("client.id", format!("{}push", plan.source.client_id_prefix));
                    return Ok((properties, plan.source.bootstrap_servers.join(","), files));
                }
            }
            Err(Error::Config(found)) => problems.extend(found),
            Err(other) => return Err(other),
        }
    }
    if problems.is_empty() {
        Err(Error::NoBroker(args.topic.clone()))
    } else {
        // A stream whose source does not resolve may be the one that reads the topic.
        Err(Error::Kafka(format!(
            "{}\nor give `push` the brokers itself: --bootstrap HOST:PORT",
            Error::Config(problems)
        )))
    }
}

/// The non-empty lines of `path` (`-`: standard input), without surrounding whitespace.
fn read_lines(path: &str) -> Result<Vec<Vec<u8>>> {
    let reader: Box<dyn BufRead> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot open `{path}`: {e}")))?;
        Box::new(BufReader::new(file))
    };
    let mut lines = Vec::new();
    for line in reader.split(b'\n') {
        let line =
            line.map_err(|e| std::io::Error::new(e.kind(), format!("cannot read `{path}`: {e}")))?;
        let line = line.trim_ascii();
        if !line.is_empty() {
            lines.push(line.to_vec());
        }
    }
    Ok(lines)
}
