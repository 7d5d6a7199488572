//! Before any consumer starts, each stream's brokers are reached and its credentials tried: a
//! wrong password or a configuration librdkafka refuses is one clear error at start-up, not a
//! consumer that retries and logs forever.

use std::time::Duration;

use super::StreamPlan;
use crate::error::{Error, Result};
use crate::probe::{probe, ConnectionFailure, TopicState};
use crate::source::KafkaProperties;

/// Probes every stream's brokers at once, within `timeout`. Fails with one line per stream whose
/// login failed, whose configuration librdkafka refused, or whose topics it may not read.
/// Brokers that do not answer and topics that do not exist yet are only warned about: the
/// consumer keeps trying, and starts consuming once they are there.
pub(super) async fn check_connections(
    plans: &[StreamPlan],
    extra_properties: &[(String, String)],
    timeout: Duration,
) -> Result<()> {
    let probes = plans.iter().map(|plan| {
        let mut properties = connection_properties(plan, extra_properties);
        properties.set(
            "client.id",
            format!(
                "{}/preflight",
                plan.source.client_id(plan.descriptor.name())
            ),
        );
        let mut topics = plan.source.topics.clone();
        topics.extend(plan.source.dead_letter_queue_topic.iter().cloned());
        tokio::task::spawn_blocking(move || probe(&properties, &topics, timeout))
    });
    let outcomes = futures::future::join_all(probes).await;
    let mut problems = Vec::new();
    for (plan, outcome) in plans.iter().zip(outcomes) {
        let name = plan.descriptor.name();
        let brokers = plan.source.bootstrap_servers.join(",");
        match outcome.map_err(std::io::Error::other)? {
            Ok(topics) => {
                for (topic, state) in topics {
                    match state {
                        TopicState::Exists(_) => {}
                        TopicState::Missing => tracing::warn!(
                            stream = name,
                            topic,
                            "topic does not exist on {brokers} (yet); the stream waits for it"
                        ),
                        TopicState::NotAuthorized => problems.push(format!(
                            "stream `{name}`: not authorized to describe topic `{topic}` on \
                             {brokers}"
                        )),
                        TopicState::Failed(error) => tracing::warn!(
                            stream = name,
                            topic,
                            %error,
                            "describing the topic failed; the stream starts anyway"
                        ),
                    }
                }
            }
            Err(
                failure @ (ConnectionFailure::Authentication(_) | ConnectionFailure::Client(_)),
            ) => {
                problems.push(format!(
                    "stream `{name}`: {}",
                    failure.describe_for(&plan.source)
                ));
            }
            Err(failure) => tracing::warn!(
                stream = name,
                "{}; starting anyway, the consumer keeps trying",
                failure.describe_for(&plan.source)
            ),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(problems))
    }
}

/// What a stream's clients connect with: its source's connection properties and extra
/// librdkafka arguments, then the runtime's own properties.
fn connection_properties(plan: &StreamPlan, extra: &[(String, String)]) -> KafkaProperties {
    let mut properties = plan.source.connection_properties();
    for (key, value) in plan.source.additional_kafka_args.iter().chain(extra) {
        properties.set(key, value);
    }
    properties
}
