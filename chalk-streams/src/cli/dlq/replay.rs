//! Reading the dead-letter topic and sending this stream's letters back.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::letter::Letter;
use super::refusal::{hint, refused_for_good};
use super::report::{Refused, Report, Skipped};
use super::Options;
use crate::cli::kafka::{
    error_text, message_timeout_ms, probe, producer, QuietContext, TopicState,
};
use crate::dlq::{
    HEADER_PAYLOAD_DROPPED, HEADER_SOURCE_OFFSET, HEADER_SOURCE_PARTITION, HEADER_SOURCE_TOPIC,
    HEADER_STREAM,
};
use crate::error::{Error, Result};
use crate::runtime::StreamPlan;
use crate::source::properties::ClientKind;

/// How long one poll of the dead-letter topic waits.
const POLL_SLICE: Duration = Duration::from_millis(200);
/// Reads the dead-letter topic to where each partition ended when the replay started (or to
/// `--limit`) and replays this stream's letters. Returns what was done, also when it failed
/// part-way. Blocking: runs on a blocking thread, awaiting acknowledgements on `handle`.
pub(super) fn replay(
    plan: &StreamPlan,
    dlq_topic: &str,
    options: Options,
    handle: &tokio::runtime::Handle,
) -> (Report, Result<()>) {
    let mut report = Report {
        stream: plan.descriptor.name().to_owned(),
        dlq_topic: dlq_topic.to_owned(),
        dry_run: options.dry_run,
        ..Report::default()
    };
    let result = replay_into(plan, dlq_topic, options, handle, &mut report);
    (report, result)
}

fn replay_into(
    plan: &StreamPlan,
    dlq_topic: &str,
    options: Options,
    handle: &tokio::runtime::Handle,
    report: &mut Report,
) -> Result<()> {
    let stream = plan.descriptor.name();
    let source = &plan.source;
    let brokers = source.bootstrap_servers.join(",");
    let client_id = format!("{}/dlq-replay", source.client_id(stream));
    let mut connection = source.client_properties(ClientKind::Consumer);
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

    let mut consumer_properties = connection.without_group_membership();
    report.group = format!("{}/dlq-replay", source.group_id(stream));
    consumer_properties.set("group.id", &report.group);
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
        let mut properties = source.producer_properties();
        properties.set("client.id", &client_id);
        properties.set("acks", "all");
        properties.set("enable.idempotence", "true");
        properties.set("message.timeout.ms", message_timeout_ms(options.timeout));
        // A letter as large as the runtime could write is sent back whole.
        properties.set("message.max.bytes", crate::dlq::LARGEST_LETTER);
        Some(producer(&properties, QuietContext::default())?)
    };

    let reader = Reader {
        consumer: &consumer,
        context: &consumer_context,
        producer: producer.as_ref(),
        dlq_topic,
        source_topics: &source.topics,
        partitions,
        brokers: &brokers,
        options,
        handle,
    };
    let result = reader.read(report);
    // Nothing borrowed from the consumer is alive any more: closing it cannot hang.
    drop(consumer);
    drop(producer);
    result
}

/// The clients of one replay and what they work on.
struct Reader<'r> {
    consumer: &'r BaseConsumer<QuietContext>,
    context: &'r QuietContext,
    /// `None` in a dry run.
    producer: Option<&'r FutureProducer<QuietContext>>,
    dlq_topic: &'r str,
    /// The stream's topics: the only ones letters are sent back to.
    source_topics: &'r [String],
    partitions: usize,
    brokers: &'r str,
    options: Options,
    handle: &'r tokio::runtime::Handle,
}

impl Reader<'_> {
    /// Reads the dead-letter topic to where each partition ended when the replay started (or to
    /// `--limit`), replaying the stream's letters and committing past each letter handled.
    ///
    /// Letters written after the start are left for the next replay: while the stream still
    /// fails, a replayed message comes back as a new letter, and reading to the moving end
    /// would send it again, and again.
    fn read(&self, report: &mut Report) -> Result<()> {
        let dlq_topic = self.dlq_topic;
        let stream = report.stream.clone();
        let kafka = |what: String| Error::Kafka(format!("stream `{stream}`: {what}"));
        let mut ends = Vec::with_capacity(self.partitions);
        // Partitions read up to where they ended at the start (or past it, for a partition whose
        // last offsets hold no message, such as a transaction marker's).
        let mut done: BTreeSet<i32> = BTreeSet::new();
        for partition in 0..self.partitions {
            let partition = i32::try_from(partition).unwrap_or(i32::MAX);
            let (start, end) = self
                .consumer
                .fetch_watermarks(dlq_topic, partition, self.options.timeout)
                .map_err(|e| {
                    kafka(format!(
                        "cannot find where `{dlq_topic}` partition {partition} ends: {}",
                        error_text(&e)
                    ))
                })?;
            if end <= start {
                done.insert(partition);
            }
            ends.push(end);
        }
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

        let mut last_event = Instant::now();
        let mut replayed = 0u64;
        while done.len() < self.partitions {
            let message = match self.consumer.poll(POLL_SLICE) {
                None => {
                    if last_event.elapsed() >= self.options.timeout {
                        return Err(kafka(self.stalled()));
                    }
                    continue;
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    done.insert(partition);
                    last_event = Instant::now();
                    continue;
                }
                // Connection errors are retried by the client; a stall ends the replay above.
                Some(Err(_)) => continue,
                Some(Ok(message)) => message,
            };
            last_event = Instant::now();
            let end = usize::try_from(message.partition())
                .ok()
                .and_then(|partition| ends.get(partition).copied())
                .unwrap_or(i64::MAX);
            if message.offset() >= end {
                done.insert(message.partition());
                continue;
            }
            if message.offset() + 1 >= end {
                done.insert(message.partition());
            }
            let letter = Letter::new(&message);
            let ours = letter.text(HEADER_STREAM).as_deref() == Some(stream.as_str());
            let mut skipped = None;
            if !ours {
                report.other_streams += 1;
            } else if letter.text(HEADER_PAYLOAD_DROPPED).as_deref() == Some("true") {
                let field = |h| letter.text(h).unwrap_or_else(|| "?".to_owned());
                skipped = Some(Skipped::Dropped((
                    field(HEADER_SOURCE_TOPIC),
                    field(HEADER_SOURCE_PARTITION),
                    field(HEADER_SOURCE_OFFSET),
                )));
            } else if let Some(target) = letter.text(HEADER_SOURCE_TOPIC) {
                if !self.source_topics.contains(&target) {
                    // Not this stream's input: sending it there would feed another
                    // application, or fail on a topic that does not exist.
                    skipped = Some(Skipped::NotASource((
                        target,
                        message.partition(),
                        message.offset(),
                    )));
                } else if self.options.limit.is_some_and(|limit| replayed >= limit) {
                    report.limit_reached = self.options.limit;
                    break;
                } else {
                    match self.send(&letter, &target) {
                        Ok(()) => {
                            replayed += 1;
                            *report.replayed.entry(target).or_default() += 1;
                        }
                        Err(error) if self.options.skip_failed && refused_for_good(&error) => {
                            skipped = Some(Skipped::Refused(Refused {
                                target,
                                partition: message.partition(),
                                offset: message.offset(),
                                error: error_text(&error),
                            }));
                        }
                        Err(error) => {
                            let hint = hint(&error, self.options.new_timestamps);
                            return Err(kafka(format!(
                                "replaying `{dlq_topic}` partition {} offset {} to `{target}` failed: {}{hint}",
                                message.partition(),
                                message.offset(),
                                error_text(&error),
                            )));
                        }
                    }
                }
            } else {
                skipped = Some(Skipped::WithoutSource);
            }
            if self.producer.is_some() {
                // Past this letter: it was replayed and acknowledged, is not to be replayed, or
                // was refused for good and the user asked to skip such letters.
                self.commit_past(message.partition(), message.offset())
                    .map_err(|error| {
                        kafka(format!(
                            "committing `{dlq_topic}` partition {} offset {}: {error}",
                            message.partition(),
                            message.offset() + 1,
                        ))
                    })?;
            }
            // Listed once the group is past it, as the report says.
            if let Some(skipped) = skipped {
                skipped.record(report);
            }
        }
        Ok(())
    }

    /// Sends the original message of `letter` to `target`, with its original timestamp unless
    /// told otherwise, and waits for the acknowledgement; in a dry run, prints it.
    fn send(&self, letter: &Letter<'_>, target: &str) -> Result<(), KafkaError> {
        let timestamp = if self.options.new_timestamps {
            None
        } else {
            // librdkafka stamps a message given 0 with the current time, which would make the
            // replayed value newer than it is: 1 ms is the earliest time it sends as given.
            letter
                .source_timestamp()
                .map(|millis| if millis == 0 { 1 } else { millis })
        };
        let Some(producer) = self.producer else {
            // A preview that cannot be written fails no send: the dry run goes on, quietly.
            let _ =
                crate::cli::stdout::print(format_args!("{}\n", letter.preview(target, timestamp)));
            return Ok(());
        };
        let record = |partition: Option<i32>| {
            let mut record =
                FutureRecord::<[u8], [u8]>::to(target).headers(letter.original_headers());
            if let Some(partition) = partition {
                record = record.partition(partition);
            }
            if let Some(millis) = timestamp {
                record = record.timestamp(millis);
            }
            if let Some(key) = letter.key {
                record = record.key(key);
            }
            if let Some(payload) = letter.payload {
                record = record.payload(payload);
            }
            record
        };
        let send = |partition| {
            self.handle
                .block_on(producer.send(record(partition), self.options.timeout))
                .map(|_| ())
                .map_err(|(error, _)| error)
        };
        // Back to its own partition: its key's other messages (a window's, say) are there, and
        // this producer's partitioner need not be the one that placed it (Java's hashes keys
        // otherwise). Unless the topic has no such partition any more (made anew with fewer):
        // then where the key takes it.
        match letter.source_partition() {
            Some(partition) => match send(Some(partition)) {
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::UnknownPartition)) => {
                    send(None)
                }
                sent => sent,
            },
            None => send(None),
        }
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
