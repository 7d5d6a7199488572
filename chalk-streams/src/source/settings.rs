//! What a consumer's settings mean for the runtime: the guarantees they give up, whether its
//! rebalances are incremental, and which settings are of group membership.

use super::properties::KafkaProperties;

/// Settings a user may choose that give up a guarantee, each with the values that do (as
/// librdkafka spells them) and what is given up: they are accepted, and said at start.
const WEAKENING: &[(&str, &[&str], &str)] = &[
    (
        "isolation.level",
        &["read_uncommitted"],
        "messages of aborted transactions are processed too",
    ),
    // A new group, or one whose offset has expired or fallen off the log, starts at the end.
    (
        "auto.offset.reset",
        &["latest", "largest", "end"],
        "a group without a valid offset passes over the messages already on the topic",
    ),
    (
        "enable.ssl.certificate.verification",
        // librdkafka reads `f` and `0` as false too.
        &["false", "f", "0"],
        "the broker's certificate is not verified: anyone in the middle can read and answer",
    ),
    (
        "ssl.endpoint.identification.algorithm",
        &["none"],
        "the broker's certificate is not checked against its host name",
    ),
];

impl KafkaProperties {
    /// The guarantees these properties give up, as `key=value: what is given up`.
    pub(crate) fn weakened_guarantees(&self) -> Vec<String> {
        WEAKENING
            .iter()
            .filter_map(|(key, values, why)| {
                let set = self.get(key)?.trim();
                let value = values.iter().find(|v| set.eq_ignore_ascii_case(v))?;
                Some(format!("{key}={value}: {why}"))
            })
            .collect()
    }

    /// Whether a rebalance may pause partitions the consumer keeps and resume them later from
    /// their position: an incremental protocol (`cooperative-sticky`, or the `consumer` group
    /// protocol). With the eager protocols (librdkafka's default), a rebalance takes every
    /// partition away, and the next owner resumes from the committed offset.
    pub(crate) fn rebalances_incrementally(&self) -> bool {
        let cooperative = self
            .get("partition.assignment.strategy")
            .is_some_and(|strategy| strategy.to_ascii_lowercase().contains("cooperative"));
        cooperative || self.uses_the_consumer_group_protocol()
    }

    /// Whether `group.protocol` is `consumer` (KIP-848): the broker assigns, and sets the
    /// session timeout.
    pub(crate) fn uses_the_consumer_group_protocol(&self) -> bool {
        self.get("group.protocol")
            .is_some_and(|protocol| protocol.trim().eq_ignore_ascii_case("consumer"))
    }

    /// These properties without those of group membership ([`MEMBERSHIP`]).
    pub(crate) fn without_group_membership(&self) -> Self {
        let mut kept = Self::default();
        for (key, value) in self.iter() {
            if !MEMBERSHIP.contains(&key) {
                kept.set(key, value);
            }
        }
        kept
    }
}

/// Settings of membership in a consumer group: joining, heartbeats, assignment. A consumer that
/// assigns its partitions by hand and only commits (`dlq replay`) has no use for them, and a
/// static member's `group.instance.id` would make its commits those of a member that never
/// joined, which a broker may refuse.
const MEMBERSHIP: &[&str] = &[
    "group.instance.id",
    "group.protocol",
    "group.protocol.type",
    "group.remote.assignor",
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_give_up_a_guarantee_are_named() {
        let mut properties = KafkaProperties::default();
        properties.set("isolation.level", "read_committed");
        properties.set("enable.ssl.certificate.verification", "true");
        properties.set("auto.offset.reset", "earliest");
        assert!(properties.weakened_guarantees().is_empty());
        properties.set("isolation.level", "read_uncommitted");
        properties.set("auto.offset.reset", "Latest");
        properties.set("enable.ssl.certificate.verification", "FALSE");
        assert_eq!(
            properties.weakened_guarantees(),
            [
                "isolation.level=read_uncommitted: messages of aborted transactions are processed too",
                "auto.offset.reset=latest: a group without a valid offset passes over the messages already on the topic",
                "enable.ssl.certificate.verification=false: the broker's certificate is not verified: anyone in the middle can read and answer",
            ]
        );
    }

    #[test]
    fn certificate_verification_off_is_named_however_librdkafka_spells_false() {
        for off in ["false", "f", "F", "0", " 0 "] {
            let mut properties = KafkaProperties::default();
            properties.set("enable.ssl.certificate.verification", off);
            let weakened = properties.weakened_guarantees();
            assert_eq!(weakened.len(), 1, "{off:?}: {weakened:?}");
            assert!(weakened[0].contains("not verified"), "{weakened:?}");
        }
        for on in ["true", "t", "1"] {
            let mut properties = KafkaProperties::default();
            properties.set("enable.ssl.certificate.verification", on);
            assert!(properties.weakened_guarantees().is_empty(), "{on:?}");
        }
    }

    #[test]
    fn incremental_rebalancing_is_told_apart_from_eager() {
        let with = |key: &str, value: &str| {
            let mut properties = KafkaProperties::default();
            properties.set(key, value);
            properties.rebalances_incrementally()
        };
        assert!(!KafkaProperties::default().rebalances_incrementally());
        assert!(!with("partition.assignment.strategy", "range,roundrobin"));
        assert!(with("partition.assignment.strategy", "cooperative-sticky"));
        assert!(with("partition.assignment.strategy", "Cooperative-Sticky"));
        assert!(!with("group.protocol", "classic"));
        assert!(with("group.protocol", "consumer"));
    }

    #[test]
    fn group_membership_is_left_out_and_the_rest_kept() {
        let mut properties = KafkaProperties::default();
        properties.set("bootstrap.servers", "127.0.0.1:9092");
        properties.set("group.instance.id", "pod-0");
        properties.set("group.protocol", "consumer");
        properties.set("session.timeout.ms", "45000");
        properties.set("fetch.min.bytes", "1024");
        let kept = properties.without_group_membership();
        let keys: Vec<&str> = kept.iter().map(|(key, _)| key).collect();
        assert_eq!(keys, ["bootstrap.servers", "fetch.min.bytes"]);
    }
}
