//! `dlq replay --stream NAME`: sends a stream's dead letters back to the topics they came from.
//!
//! The dead-letter topic is read from the beginning by a consumer group of its own,
//! `{group_id_prefix}{stream}/dlq-replay`, which commits past each letter once it is handled (a
//! replayed letter only after the broker acknowledged it), so a second replay sends nothing
//! again. Each letter goes back with its original key, value, headers and timestamp, without the
//! `chalk.*` envelope, and only to one of the stream's own topics; letters of other streams
//! sharing the topic are left alone, and letters whose payload was dropped, or whose source
//! topic is not the stream's, are skipped and reported with where they are.

mod letter;
mod refusal;
mod replay;
mod report;

use std::time::Duration;

use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::source::remote::{localize_plans, StoreEnv};
use crate::source::resolve::process_env;

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
replayed one only after the broker acknowledged it), up to where each partition ended when the \
replay started: a replayed message that fails again waits for the next replay. Letters of other \
streams are left alone; \
letters whose payload was dropped (chalk.payload.dropped=true) are skipped and listed with \
where their original is; letters from a topic that is not one of the stream's are skipped and \
listed. Replayed messages keep their original timestamp (chalk.source.timestamp): a replayed \
value never replaces a newer one, a window stream puts it in its own window, and a message \
older than the stream's late-arrival deadline is skipped as late. --new-timestamps gives them \
the time of the replay instead. A letter that cannot be sent stops the replay there, and what it \
did is printed before the error; with --skip-failed, a letter the brokers refuse for good is \
skipped instead, and listed with the error: it stays in the dead-letter topic.")]
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
    /// Give replayed messages the time of the replay rather than their original timestamp: they
    /// then pass the late-arrival deadline, but their features carry the replay's time and
    /// replace values written after the original message.
    #[arg(long)]
    new_timestamps: bool,
    /// Skip a letter the brokers refuse for good (too large, or invalid) and go on: it is listed
    /// with the error and stays in the dead-letter topic, and the replay's group commits past
    /// it. A letter not acknowledged within --timeout, or refused because this client may not
    /// write its topic, still stops the replay.
    #[arg(long)]
    skip_failed: bool,
    /// Replay at most N letters; the rest stay for the next replay.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// How long the brokers may take to answer, and the dead-letter topic to deliver anything.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::cli::parse_timeout)]
    timeout: std::time::Duration,
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
        return Err(Error::NoDeadLetterQueue {
            stream: args.stream.clone(),
            variable: plan.descriptor.source().env_var("dead_letter_queue_topic"),
        });
    };
    let options = Options {
        dry_run: args.dry_run,
        limit: args.limit,
        timeout: args.timeout,
        new_timestamps: args.new_timestamps,
        skip_failed: args.skip_failed,
    };
    let handle = tokio::runtime::Handle::current();
    let (report, result) =
        tokio::task::spawn_blocking(move || replay::replay(&plan, &dlq_topic, options, &handle))
            .await
            .map_err(std::io::Error::other)?;
    // A replay that fails part-way has sent and committed some letters: say which.
    if result.is_ok() || !report.is_empty() {
        crate::cli::stdout::print(format_args!("{report}"))?;
    }
    result
}

/// What `dlq replay` was asked for.
#[derive(Debug, Clone, Copy)]
struct Options {
    dry_run: bool,
    limit: Option<u64>,
    timeout: Duration,
    new_timestamps: bool,
    skip_failed: bool,
}
