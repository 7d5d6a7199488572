//! `dlq replay --stream NAME`: sends a stream's dead letters back to the topics they came from.
//!
//! The dead-letter topic is read from the beginning by a consumer group of its own,
//! `{group_id_prefix}{stream}/dlq-replay`, which commits past each letter once it is handled (a
//! replayed letter only after the broker acknowledged it), so a second replay sends nothing
//! again. Each letter goes back with its original key, value and headers, without the `chalk.*`
//! envelope; letters of other streams sharing the topic are left alone, and letters whose
//! payload was dropped are skipped and reported with where their original is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Headers as _, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use super::kafka::{error_text, probe, producer, QuietContext, TopicState};
use crate::dlq::{
    HEADER_ERROR, HEADER_PAYLOAD_DROPPED, HEADER_PHASE, HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION, HEADER_SOURCE_TIMESTAMP, HEADER_SOURCE_TOPIC, HEADER_STREAM,
};
use crate::error::{Error, Result};
use crate::runtime::{Runtime, StreamPlan};
use crate::source::remote::{localize_plans, StoreEnv};
use crate::source::resolve::process_env;

/// The headers a dead letter carries on top of the original message's.
const ENVELOPE: [&str; 8] = [
    HEADER_STREAM,
    HEADER_PHASE,
    HEADER_ERROR,
    HEADER_SOURCE_TOPIC,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_TIMESTAMP,
    HEADER_PAYLOAD_DROPPED,
];
/// How long one poll of the dead-letter topic waits.
const POLL_SLICE: Duration = Duration::from_millis(200);
/// The longest value `--dry-run` prints in full.
const PREVIEW_CHARS: usize = 200;

/// Commands on dead-letter topics.
#[derive(Debug, clap::Subcommand)]
pub(super) enum DlqCommand {
    /// Send a stream's dead letters back to the topics they came from.
    ///
    /// Each letter goes back with its original key, value and headers, without the `chalk.*`
    /// envelope; a second replay sends nothing again.
    #[command(after_help = "\
Letters are read from the beginning of the stream's dead-letter topic by the consumer group \
{group_id_prefix}{stream}/dlq-replay, which commits past each letter once it is handled (a \
replayed one only after the broker acknowledged it). Letters of other streams are left alone; \
letters whose payload was dropped (chalk.payload.dropped=true) are skipped and listed with \
where their original is. Replayed messages get a new timestamp.")]
    Replay(ReplayArgs),
}

#[derive(Debug, clap::Args)]
pub(super) struct ReplayArgs {
    /// The stream whose dead letters to replay (as `list` names it).
    #[arg(long, value_name = "STREAM")]
    stream: String,
    /// Print what would be sent; send and commit nothing.
    #[arg(long)]
    dry_run: bool,
    /// Replay at most N letters; the rest stay for the next replay.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// How long the brokers may take to answer, and the dead-letter topic to deliver anything.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    timeout: humantime::Duration,
}

pub(super) async fn run(command: &DlqCommand) -> Result<()> {
    let DlqCommand::Replay(args) = command;
    let mut plan = Runtime::from_registry()?
        .only(&[args.stream.as_str()])?
        .plan()?
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotFound(format!("no stream is named `{}`", args.stream)))?;
    // s3:// and gs:// keystores and CA files: private local copies until the replay ends.
    let _remote_files = localize_plans(
        std::slice::from_mut(&mut plan),
        &StoreEnv::capture(&process_env),
    )
    .await?;
    let Some(dlq_topic) = plan.source.dead_letter_queue_topic.clone() else {
        return Err(Error::NoDeadLetterQueue(args.stream.clone()));
    };
    let options = Options {
        dry_run: args.dry_run,
        limit: args.limit,
        timeout: args.timeout.into(),
    };
    let handle = tokio::runtime::Handle::current();
    let report = tokio::task::spawn_blocking(move || replay(&plan, &dlq_topic, options, &handle))
        .await
        .map_err(std::io::Error::other)??;
    print!("{report}");
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct Options {
    dry_run: bool,
    limit: Option<u64>,
    timeout: Duration,
}

/// What a replay did, printed when it ends.
#[derive(Debug, Default)]
struct Report {
    stream: String,
    dlq_topic: String,
    dry_run: bool,
    /// Letters sent (or, in a dry run, that would be), per destination topic.
    replayed: BTreeMap<String, u64>,
    /// Where the originals of the letters without payload are: topic, partition, offset.
    dropped: Vec<(String, String, String)>,
    other_streams: u64,
    without_source: u64,
    limit_reached: Option<u64>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let letters = |n: u64| format!("{n} letter{}", if n == 1 { "" } else { "s" });
        let total: u64 = self.replayed.values().sum();
        let targets = self
            .replayed
            .iter()
            .map(|(topic, n)| format!("{topic}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let targets = if targets.is_empty() {
            String::new()
        } else {
            format!(" ({targets})")
        };
        let (stream, dlq) = (&self.stream, &self.dlq_topic);
        if self.dry_run {
            writeln!(
                f,
                "dry run: would replay {} of stream `{stream}` from `{dlq}`{targets}; nothing sent or committed",
                letters(total)
            )?;
        } else {
            writeln!(
                f,
                "replayed {} of stream `{stream}` from `{dlq}`{targets}",
                letters(total)
            )?;
        }
        if !self.dropped.is_empty() {
            let n = self.dropped.len() as u64;
            writeln!(
                f,
                "skipped {} whose payload was dropped; the originals are in their source topics:",
                letters(n)
            )?;
            for (topic, partition, offset) in &self.dropped {
                writeln!(f, "  {topic} partition {partition} offset {offset}")?;
            }
        }
        if self.other_streams > 0 {
            writeln!(
                f,
                "left {} of other streams alone",
                letters(self.other_streams)
            )?;
        }
        if self.without_source > 0 {
            writeln!(
                f,
                "skipped {} without a {HEADER_SOURCE_TOPIC} header",
                letters(self.without_source)
            )?;
        }
        if let Some(limit) = self.limit_reached {
            writeln!(
                f,
                "stopped at --limit {limit}; later letters stay for the next replay"
            )?;
        }
        Ok(())
    }
}

/// A dead letter taken apart: its envelope, and the original message's key, value and headers.
struct Letter<'m> {
    envelope: BTreeMap<&'m str, &'m [u8]>,
    headers: Vec<Header<'m, &'m [u8]>>,
    key: Option<&'m [u8]>,
    payload: Option<&'m [u8]>,
}

impl<'m> Letter<'m> {
    fn new(message: &'m BorrowedMessage<'_>) -> Self {
        let mut envelope = BTreeMap::new();
        let mut headers = Vec::new();
        if let Some(all) = message.headers() {
            for header in all.iter() {
                if ENVELOPE.contains(&header.key) {
                    envelope.insert(header.key, header.value.unwrap_or_default());
                } else {
                    headers.push(header);
                }
            }
        }
        Self {
            envelope,
            headers,
            key: message.key(),
            payload: message.payload(),
        }
    }

    fn text(&self, header: &str) -> Option<String> {
        self.envelope
            .get(header)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    fn original_headers(&self) -> OwnedHeaders {
        self.headers
            .iter()
            .fold(OwnedHeaders::new(), |headers, header| {
                headers.insert(Header {
                    key: header.key,
                    value: header.value,
                })
            })
    }

    /// One line saying what would be sent to `topic`.
    fn preview(&self, topic: &str) -> String {
        let mut line = format!("would send to `{topic}`:");
        if let Some(key) = self.key {
            let _ = write!(line, " key={}", String::from_utf8_lossy(key));
        }
        if !self.headers.is_empty() {
            let headers: Vec<String> = self
                .headers
                .iter()
                .map(|h| {
                    let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                    format!("{}={value}", h.key)
                })
                .collect();
            let _ = write!(line, " headers=[{}]", headers.join(", "));
        }
        match self.payload {
            None => line.push_str(" (no value)"),
            Some(payload) => {
                let text = String::from_utf8_lossy(payload);
                let mut preview: String = text.chars().take(PREVIEW_CHARS).collect();
                if text.chars().count() > PREVIEW_CHARS {
                    preview.push('…');
                }
                let _ = write!(line, " value={preview}");
            }
        }
        line
    }
}

/// Reads the dead-letter topic to its end (or `--limit`) and replays this stream's letters.
/// Blocking: runs on a blocking thread, awaiting acknowledgements on `handle`.
fn replay(
    plan: &StreamPlan,
    dlq_topic: &str,
    options: Options,
    handle: &tokio::runtime::Handle,
) -> Result<Report> {
    let stream = plan.descriptor.name();
    let source = &plan.source;
    let brokers = source.bootstrap_servers.join(",");
    let mut connection = source.connection_properties();
    for (key, value) in &source.additional_kafka_args {
        connection.set(key, value);
    }
    let client_id = format!("{}/dlq-replay", source.client_id(stream));
    connection.set("client.id", &client_id);

    let topic_error = |what: String| Error::Kafka(format!("stream `{stream}`: {what}"));
    let partitions = match probe(&connection, &[dlq_topic.to_owned()], options.timeout)
        .map_err(|failure| topic_error(failure.describe(&brokers)))?
        .pop()
    {
        Some((_, TopicState::Exists(partitions))) => partitions,
        Some((_, TopicState::Missing)) | None => {
            return Err(topic_error(format!(
                "dead-letter topic `{dlq_topic}` does not exist on {brokers}"
            )))
        }
        Some((_, TopicState::NotAuthorized)) => {
            return Err(topic_error(format!(
                "not authorized to describe dead-letter topic `{dlq_topic}` on {brokers}"
            )))
        }
        Some((_, TopicState::Failed(error))) => {
            return Err(topic_error(format!(
                "dead-letter topic `{dlq_topic}` on {brokers}: {error}"
            )))
        }
    };

    let mut consumer_properties = connection.clone();
    consumer_properties.set(
        "group.id",
        format!("{}/dlq-replay", source.group_id(stream)),
    );
    consumer_properties.set("enable.auto.commit", "false");
    consumer_properties.set("enable.auto.offset.store", "false");
    consumer_properties.set("auto.offset.reset", "earliest");
    consumer_properties.set("enable.partition.eof", "true");
    let consumer_context = QuietContext::default();
    let consumer: BaseConsumer<QuietContext> = consumer_properties
        .to_client_config()
        .create_with_context(consumer_context.clone())
        .map_err(|e| {
            topic_error(format!(
                "the Kafka consumer rejected its configuration: {e}"
            ))
        })?;

    let producer = if options.dry_run {
        None
    } else {
        let mut properties = connection;
        properties.set("acks", "all");
        properties.set("enable.idempotence", "true");
        properties.set(
            "message.timeout.ms",
            options.timeout.as_millis().max(1).to_string(),
        );
        Some(producer(&properties, QuietContext::default())?)
    };

    let mut report = Report {
        stream: stream.to_owned(),
        dlq_topic: dlq_topic.to_owned(),
        dry_run: options.dry_run,
        ..Report::default()
    };
    let reader = Reader {
        consumer: &consumer,
        context: &consumer_context,
        producer: producer.as_ref(),
        dlq_topic,
        partitions,
        brokers: &brokers,
        options,
        handle,
    };
    let result = reader.read(&mut report);
    // Nothing borrowed from the consumer is alive any more: closing it cannot hang.
    drop(consumer);
    drop(producer);
    result.map(|()| report)
}

/// The clients of one replay and what they work on.
struct Reader<'r> {
    consumer: &'r BaseConsumer<QuietContext>,
    context: &'r QuietContext,
    /// `None` in a dry run.
    producer: Option<&'r FutureProducer<QuietContext>>,
    dlq_topic: &'r str,
    partitions: usize,
    brokers: &'r str,
    options: Options,
    handle: &'r tokio::runtime::Handle,
}

impl Reader<'_> {
    /// Reads the dead-letter topic to the end of every partition (or `--limit`), replaying the
    /// stream's letters and committing past each letter handled.
    fn read(&self, report: &mut Report) -> Result<()> {
        let dlq_topic = self.dlq_topic;
        let kafka = |what: String| Error::Kafka(format!("stream `{}`: {what}", report.stream));
        {
            let mut assignment = TopicPartitionList::new();
            for partition in 0..self.partitions {
                let partition = i32::try_from(partition).unwrap_or(i32::MAX);
                assignment
                    .add_partition_offset(dlq_topic, partition, Offset::Stored)
                    .map_err(|e| kafka(format!("cannot assign `{dlq_topic}`: {e}")))?;
            }
            self.consumer
                .assign(&assignment)
                .map_err(|e| kafka(format!("cannot assign `{dlq_topic}`: {e}")))?;
        }

        let mut at_end: BTreeSet<i32> = BTreeSet::new();
        let mut last_event = Instant::now();
        let mut replayed = 0u64;
        while at_end.len() < self.partitions {
            let message = match self.consumer.poll(POLL_SLICE) {
                None => {
                    if last_event.elapsed() >= self.options.timeout {
                        return Err(kafka(self.stalled()));
                    }
                    continue;
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    at_end.insert(partition);
                    last_event = Instant::now();
                    continue;
                }
                // Connection errors are retried by the client; a stall ends the replay above.
                Some(Err(_)) => continue,
                Some(Ok(message)) => message,
            };
            last_event = Instant::now();
            at_end.remove(&message.partition());
            let letter = Letter::new(&message);
            let ours = letter.text(HEADER_STREAM).as_deref() == Some(report.stream.as_str());
            if !ours {
                report.other_streams += 1;
            } else if letter.text(HEADER_PAYLOAD_DROPPED).as_deref() == Some("true") {
                let field = |h| letter.text(h).unwrap_or_else(|| "?".to_owned());
                report.dropped.push((
                    field(HEADER_SOURCE_TOPIC),
                    field(HEADER_SOURCE_PARTITION),
                    field(HEADER_SOURCE_OFFSET),
                ));
            } else if let Some(target) = letter.text(HEADER_SOURCE_TOPIC) {
                if self.options.limit.is_some_and(|limit| replayed >= limit) {
                    report.limit_reached = self.options.limit;
                    break;
                }
                self.send(&letter, &target).map_err(|error| {
                    kafka(format!(
                        "replaying `{dlq_topic}` partition {} offset {} to `{target}` failed: {error}",
                        message.partition(),
                        message.offset(),
                    ))
                })?;
                replayed += 1;
                *report.replayed.entry(target).or_default() += 1;
            } else {
                report.without_source += 1;
            }
            if self.producer.is_some() {
                // Past this letter: it was replayed and acknowledged, or is not to be replayed.
                self.commit_past(message.partition(), message.offset())
                    .map_err(|error| {
                        kafka(format!(
                            "committing `{dlq_topic}` partition {} offset {}: {error}",
                            message.partition(),
                            message.offset() + 1,
                        ))
                    })?;
            }
        }
        Ok(())
    }

    /// Sends the original message of `letter` to `target` and waits for the acknowledgement;
    /// in a dry run, prints it.
    fn send(&self, letter: &Letter<'_>, target: &str) -> Result<(), String> {
        let Some(producer) = self.producer else {
            println!("{}", letter.preview(target));
            return Ok(());
        };
        let mut record = FutureRecord::<[u8], [u8]>::to(target).headers(letter.original_headers());
        if let Some(key) = letter.key {
            record = record.key(key);
        }
        if let Some(payload) = letter.payload {
            record = record.payload(payload);
        }
        self.handle
            .block_on(producer.send(record, self.options.timeout))
            .map(|_| ())
            .map_err(|(error, _)| error_text(&error))
    }

    /// Commits the position after `offset` of `partition`, synchronously.
    fn commit_past(&self, partition: i32, offset: i64) -> Result<(), String> {
        let mut done = TopicPartitionList::new();
        done.add_partition_offset(self.dlq_topic, partition, Offset::Offset(offset + 1))
            .and_then(|()| self.consumer.commit(&done, CommitMode::Sync))
            .map_err(|error| error_text(&error))
    }

    /// Why nothing arrived for the whole timeout.
    fn stalled(&self) -> String {
        let why = self
            .context
            .connection_failure()
            .map(|failure| failure.describe(self.brokers))
            .or_else(|| self.context.last_error())
            .unwrap_or_else(|| "no answer".to_owned());
        format!(
            "reading `{}` stalled for {}: {why}",
            self.dlq_topic,
            humantime::format_duration(self.options.timeout)
        )
    }
}
