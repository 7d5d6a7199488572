//! `check`: resolves every stream's source, then connects to its brokers and describes its
//! topics, within a short deadline. One line per stream that is fine, one line per problem.

use std::time::Duration;

use super::kafka::{probe, TopicState};
use crate::error::{Error, Result};
use crate::runtime::{Runtime, StreamPlan};
use crate::source::properties::ClientKind;
use crate::source::remote::{localize_plans, StoreEnv};
use crate::source::resolve::process_env;

#[derive(Debug, clap::Args)]
pub(super) struct CheckArgs {
    /// Check only these streams (repeatable).
    #[arg(long = "only", value_name = "STREAM")]
    only: Vec<String>,
    /// How long each stream's brokers have to answer, e.g. `10s` or `500ms`.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::parse_timeout)]
    timeout: std::time::Duration,
}

pub(super) async fn run(args: &CheckArgs) -> Result<()> {
    // Misconfigured sources are reported as `run` reports them, before anything connects.
    let mut plans = Runtime::from_registry()?.only(&args.only)?.plan()?;
    // s3:// and gs:// keystores and CA files: private local copies until the check ends.
    let _remote_files = localize_plans(&mut plans, &StoreEnv::capture(&process_env)).await?;
    let timeout: Duration = args.timeout;
    // Streams are checked at once, so the whole check takes about one deadline at most.
    let checks = plans
        .into_iter()
        .map(|plan| tokio::task::spawn_blocking(move || check_stream(&plan, timeout)));
    let mut problems = Vec::new();
    for result in futures::future::join_all(checks).await {
        match result.map_err(std::io::Error::other)? {
            Ok(line) => crate::cli::stdout::print(format_args!("{line}\n"))?,
            Err(lines) => problems.extend(lines),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(problems))
    }
}

/// The OK line of one stream, or its problems, one line each.
fn check_stream(plan: &StreamPlan, timeout: Duration) -> Result<String, Vec<String>> {
    let name = plan.descriptor.name();
    let source = &plan.source;
    let brokers = source.bootstrap_servers.join(",");
    let mut properties = source.connection_properties();
    properties.set("client.id", format!("{}/check", source.client_id(name)));
    // The probe is a consumer: producer-only settings would only make librdkafka warn.
    properties.extend_for(ClientKind::Consumer, &source.additional_kafka_args);
    let mut topics = source.topics.clone();
    topics.extend(source.dead_letter_queue_topic.iter().cloned());

    let states = probe(&properties, &topics, timeout)
        .map_err(|failure| vec![format!("stream `{name}`: {}", failure.describe_for(source))])?;

    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (topic, state) in states {
        let role = if source.dead_letter_queue_topic.as_ref() == Some(&topic) {
            "dead-letter topic"
        } else {
            "topic"
        };
        match state {
            TopicState::Exists(partitions) => {
                let plural = if partitions == 1 { "" } else { "s" };
                found.push(format!("{topic} ({partitions} partition{plural})"));
            }
            TopicState::Missing => problems.push(format!(
                "stream `{name}`: {role} `{topic}` does not exist on {brokers}"
            )),
            TopicState::NotAuthorized => problems.push(format!(
                "stream `{name}`: not authorized to describe {role} `{topic}` on {brokers}"
            )),
            TopicState::Failed(error) => problems.push(format!(
                "stream `{name}`: {role} `{topic}` on {brokers}: {error}"
            )),
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "ok: stream `{name}`: {} on {brokers}",
            found.join(", ")
        ))
    } else {
        Err(problems)
    }
}
