//! Before any consumer starts, each stream's brokers are reached and its credentials tried: a
//! wrong password or a configuration librdkafka refuses is one clear error at start-up, not a
//! consumer that retries and logs forever.

use std::time::Duration;

use super::StreamPlan;
use crate::error::{Error, Result};
use crate::probe::{probe, ConnectionFailure, TopicState};
use crate::source::properties::ClientKind;
use crate::source::KafkaProperties;

/// Probes every stream's brokers at once, within `timeout`; streams that connect alike (most
/// share a source) share one probe. Fails with one line per stream whose login failed, whose
/// configuration librdkafka refused, or whose topics it may not read. Brokers that do not answer
/// and topics that do not exist yet are only warned about: the consumer keeps trying, and starts
/// consuming once they are there.
pub(super) async fn check_connections(
    plans: &[StreamPlan],
    extra_properties: &[(String, String)],
    timeout: Duration,
) -> Result<()> {
    let groups = connection_groups(plans, extra_properties);
    let probes = groups.iter().map(|group| {
        let first = &plans[group.members[0]];
        let mut properties = group.properties.clone();
        properties.set(
            "client.id",
            format!(
                "{}/preflight",
                first.source.client_id(first.descriptor.name())
            ),
        );
        let mut topics: Vec<String> = Vec::new();
        for plan in group.members.iter().map(|&i| &plans[i]) {
            for topic in stream_topics(plan) {
                if !topics.contains(&topic) {
                    topics.push(topic);
                }
            }
        }
        tokio::task::spawn_blocking(move || probe(&properties, &topics, timeout))
    });
    let outcomes = futures::future::join_all(probes).await;
    let mut problems = Vec::new();
    for (group, outcome) in groups.iter().zip(outcomes) {
        let outcome = outcome.map_err(std::io::Error::other)?;
        for plan in group.members.iter().map(|&i| &plans[i]) {
            check_stream(plan, &outcome, &mut problems);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(problems))
    }
}

/// Streams whose clients connect with the same properties.
struct ConnectionGroup {
    properties: KafkaProperties,
    /// Indices into the plans.
    members: Vec<usize>,
}

fn connection_groups(plans: &[StreamPlan], extra: &[(String, String)]) -> Vec<ConnectionGroup> {
    let mut groups: Vec<ConnectionGroup> = Vec::new();
    for (index, plan) in plans.iter().enumerate() {
        let properties = connection_properties(plan, extra);
        match groups.iter_mut().find(|g| g.properties == properties) {
            Some(group) => group.members.push(index),
            None => groups.push(ConnectionGroup {
                properties,
                members: vec![index],
            }),
        }
    }
    groups
}

/// The topics a stream reads and writes: its sources and its dead-letter topic.
fn stream_topics(plan: &StreamPlan) -> impl Iterator<Item = String> + '_ {
    plan.source
        .topics
        .iter()
        .chain(&plan.source.dead_letter_queue_topic)
        .cloned()
}

/// Adds `plan`'s problems from its group's probe `outcome`, and warns about what may still
/// resolve itself.
fn check_stream(
    plan: &StreamPlan,
    outcome: &Result<Vec<(String, TopicState)>, ConnectionFailure>,
    problems: &mut Vec<String>,
) {
    let name = plan.descriptor.name();
    let brokers = plan.source.bootstrap_servers.join(",");
    let states = match outcome {
        Ok(states) => states,
        Err(
            failure @ (ConnectionFailure::Authentication(_)
            | ConnectionFailure::Tls(_)
            | ConnectionFailure::Client(_)),
        ) => {
            problems.push(format!(
                "stream `{name}`: {}",
                failure.describe_for(&plan.source)
            ));
            return;
        }
        Err(failure) => {
            tracing::warn!(
                stream = name,
                "{}; starting anyway, the consumer keeps trying",
                failure.describe_for(&plan.source)
            );
            return;
        }
    };
    for topic in stream_topics(plan) {
        let Some((_, state)) = states.iter().find(|(t, _)| *t == topic) else {
            continue;
        };
        match state {
            TopicState::Exists(_) => {}
            TopicState::Missing if plan.source.dead_letter_queue_topic.as_ref() == Some(&topic) => {
                tracing::warn!(
                    stream = name,
                    topic,
                    "dead-letter topic does not exist on {brokers} (yet): the stream starts, and \
                     a message that fails holds its partition until the topic exists"
                )
            }
            TopicState::Missing => tracing::warn!(
                stream = name,
                topic,
                "topic does not exist on {brokers} (yet); the stream waits for it"
            ),
            TopicState::NotAuthorized => {
                let kind = if plan.source.dead_letter_queue_topic.as_ref() == Some(&topic) {
                    "dead-letter topic"
                } else {
                    "topic"
                };
                problems.push(format!(
                    "stream `{name}`: not authorized to describe {kind} `{topic}` on {brokers}"
                ))
            }
            TopicState::Failed(error) => tracing::warn!(
                stream = name,
                topic,
                %error,
                "describing the topic failed; the stream starts anyway"
            ),
        }
    }
}

/// What a stream's probe connects with: what its consumer would, without group and tuning
/// (the source's connection properties and extra librdkafka arguments, then the runtime's own).
fn connection_properties(plan: &StreamPlan, extra: &[(String, String)]) -> KafkaProperties {
    let mut properties = plan.source.client_properties(ClientKind::Consumer);
    properties.extend_for(ClientKind::Consumer, extra);
    properties
}
