//! `list`: the registered streams and their resolved sources.

use serde::Serialize;

use std::time::Duration;

use crate::error::Result;
use crate::runtime::{problem_of, Runtime, StreamDescription, DEFAULT_WINDOW_RETENTION};

#[derive(Debug, clap::Args)]
pub(super) struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// The window retention `run` is given (default 24h), which caps the deadline of window
    /// streams: shown as it applies.
    #[arg(long, env = "CHALK_WINDOW_RETENTION", value_name = "DURATION", value_parser = super::parse_window_retention)]
    window_retention: Option<Duration>,
}

/// One stream as `list` shows it; secrets never appear. When its source does not resolve, its
/// brokers aside (`resolved` false), each option is shown if no problem names it; one that a
/// problem names is unknown: empty here, `?` in the table, and `problems` says why `run` would
/// refuse to start it.
#[derive(Debug, Serialize)]
struct Row {
    name: &'static str,
    function: &'static str,
    /// The entity the stream writes, and the features it may set.
    entity: Option<&'static str>,
    features: Vec<&'static str>,
    source: Option<String>,
    topics: Vec<String>,
    group_id: Option<String>,
    late_arrival_deadline: Option<String>,
    windows: Vec<&'static str>,
    /// An async resolver's time limit per message (or window), if it has one.
    timeout: Option<String>,
    dead_letter_queue_topic: Option<String>,
    /// Whether `dead_letter_queue_topic` is known (`None` then means none is set).
    #[serde(skip)]
    dead_letter_queue_topic_known: bool,
    bootstrap_servers: Vec<String>,
    security_protocol: Option<String>,
    resolved: bool,
    problems: Vec<String>,
}

impl Row {
    fn new(stream: &StreamDescription, window_retention: Duration) -> Self {
        let descriptor = stream.descriptor;
        let source = &stream.source;
        let known = |option: &str| stream.resolved(option);
        let windowed = !descriptor.windows().is_empty();
        Self {
            name: descriptor.name(),
            function: descriptor.function(),
            entity: descriptor.entity().map(|e| e.namespace),
            features: descriptor.stored_features(),
            source: descriptor.source().integration_name().map(str::to_owned),
            topics: if known("topic") {
                source.topics.clone()
            } else {
                Vec::new()
            },
            group_id: known("group_id_prefix").then(|| source.group_id(descriptor.name())),
            late_arrival_deadline: known("late_arrival_deadline").then(|| {
                source
                    .late_arrival_deadline
                    .as_applied(windowed, window_retention)
            }),
            windows: descriptor.windows().to_vec(),
            timeout: descriptor
                .timeout()
                .map(|t| humantime::format_duration(t).to_string()),
            dead_letter_queue_topic: source
                .dead_letter_queue_topic
                .clone()
                .filter(|_| known("dead_letter_queue_topic")),
            dead_letter_queue_topic_known: known("dead_letter_queue_topic"),
            bootstrap_servers: source.bootstrap_servers.clone(),
            security_protocol: known("security_protocol")
                .then(|| source.security_protocol.to_string()),
            resolved: stream.resolved_but_brokers(),
            // What `run` would refuse after resolving, before it fetches anything, too.
            problems: (stream.problems.iter().map(ToString::to_string))
                .chain(
                    crate::source::remote::missing_local_files(source)
                        .into_iter()
                        .map(|error| problem_of(descriptor, error).to_string()),
                )
                .collect(),
        }
    }
}

/// Lists every stream, whether or not its source is complete: describing streams needs no
/// broker. Problems that would stop `run` follow the table, on standard error.
pub(super) fn run(runtime: &Runtime, args: &ListArgs) -> Result<()> {
    let retention = args.window_retention.unwrap_or(DEFAULT_WINDOW_RETENTION);
    let rows: Vec<Row> = runtime
        .describe()
        .iter()
        .map(|stream| Row::new(stream, retention))
        .collect();
    if args.json {
        let json = serde_json::to_string_pretty(&rows)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        crate::cli::stdout::print(format_args!("{json}\n"))?;
    } else {
        print_table(&rows)?;
    }
    let problems: Vec<&String> = rows.iter().flat_map(|r| &r.problems).collect();
    if !problems.is_empty() {
        crate::cli::stdout::eprintln("`run` would not start until these are fixed:");
        for problem in problems {
            crate::cli::stdout::eprintln(format_args!("  {problem}"));
        }
    }
    Ok(())
}

fn print_table(rows: &[Row]) -> std::io::Result<()> {
    let table: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            // What the source would give is unknown (`?`) when it does not resolve.
            let absent = if r.resolved { "-" } else { "?" };
            let or_absent = |value: &Option<String>| value.clone().unwrap_or_else(|| absent.into());
            [
                r.name.to_owned(),
                r.entity.unwrap_or("-").to_owned(),
                r.source.clone().unwrap_or_else(|| "-".into()),
                if r.topics.is_empty() {
                    absent.to_owned()
                } else {
                    r.topics.join(",")
                },
                or_absent(&r.group_id),
                or_absent(&r.late_arrival_deadline),
                if r.windows.is_empty() {
                    "-".to_owned()
                } else {
                    r.windows.join(",")
                },
                match &r.dead_letter_queue_topic {
                    Some(topic) => topic.clone(),
                    None if r.dead_letter_queue_topic_known => "-".to_owned(),
                    None => "?".to_owned(),
                },
            ]
        })
        .collect();
    crate::cli::stdout::print(format_args!(
        "{}",
        super::table::render(
            &["STREAM", "ENTITY", "SOURCE", "TOPICS", "GROUP", "DEADLINE", "WINDOW", "DLQ"],
            &table
        )
    ))
}
