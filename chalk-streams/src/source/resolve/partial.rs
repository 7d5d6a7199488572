//! A source that does not resolve whole, field by field: what `list` can still show of it.

use super::{resolve_topics, EnvLookup, Resolver};
use crate::duration::LateArrivalDeadline;
use crate::source::KafkaSource;

/// The broker-free fields of a source, each `None` when it does not resolve on its own.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartlyResolved {
    pub(crate) topics: Option<Vec<String>>,
    pub(crate) late_arrival_deadline: Option<LateArrivalDeadline>,
    pub(crate) group_id_prefix: Option<String>,
    /// The dead-letter topic, if any (`Some(None)`: none is set), when its name is valid and
    /// not one of the topics.
    pub(crate) dead_letter_queue_topic: Option<Option<String>>,
}

impl KafkaSource {
    /// The topics, late-arrival deadline, group prefix and dead-letter topic, each resolved
    /// alone: a bad security protocol or deadline leaves the others known.
    pub(crate) fn resolve_each(&self, env: EnvLookup<'_>) -> PartlyResolved {
        let topics = alone(self, env, resolve_topics).filter(|topics| !topics.is_empty());
        let dead_letter_queue_topic = alone(self, env, |r| {
            r.string("dead_letter_queue_topic", self.dead_letter_queue_topic)
        })
        .filter(|dlq| {
            dlq.as_ref().is_none_or(|dlq| {
                crate::source::topic_name::check(dlq).is_ok()
                    && topics.as_ref().is_some_and(|topics| !topics.contains(dlq))
            })
        });
        PartlyResolved {
            topics,
            dead_letter_queue_topic,
            late_arrival_deadline: alone(self, env, |r| {
                r.parsed("late_arrival_deadline", self.late_arrival_deadline)
                    .unwrap_or_default()
            }),
            group_id_prefix: alone(self, env, |r| {
                r.prefix("group_id_prefix", self.group_id_prefix)
            }),
        }
    }
}

/// What `resolve` gives for `source`, if it finds nothing wrong.
fn alone<T>(
    source: &KafkaSource,
    env: EnvLookup<'_>,
    resolve: impl FnOnce(&mut Resolver<'_>) -> T,
) -> Option<T> {
    let mut resolver = Resolver {
        source,
        env,
        errors: Vec::new(),
    };
    let value = resolve(&mut resolver);
    resolver.errors.is_empty().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_resolves_alone() {
        static SOURCE: KafkaSource = KafkaSource::new().topic("updates");
        let env = |var: &str| match var {
            "KAFKA_LATE_ARRIVAL_DEADLINE" => Some("soon".to_owned()),
            "KAFKA_SECURITY_PROTOCOL" => Some("bogus".to_owned()),
            _ => None,
        };
        let partly = SOURCE.resolve_each(&env);
        assert_eq!(partly.topics, Some(vec!["updates".to_owned()]));
        assert_eq!(partly.late_arrival_deadline, None, "`soon` is no duration");
        assert_eq!(partly.group_id_prefix.as_deref(), Some("chalk/"));
        assert_eq!(partly.dead_letter_queue_topic, Some(None), "none set");

        let env =
            |var: &str| (var == "KAFKA_DEAD_LETTER_QUEUE_TOPIC").then(|| "updates".to_owned());
        let looping = SOURCE.resolve_each(&env);
        assert_eq!(
            looping.dead_letter_queue_topic, None,
            "its own topic: refused"
        );
    }
}
