//! Which librdkafka properties a consumer or a producer reads: each client of a source takes
//! those it reads from the same settings, so librdkafka has none to ignore with a warning.

/// librdkafka properties only a consumer reads; a producer ignores them, with a warning.
const CONSUMER_ONLY: &[&str] = &[
    "group.id",
    "group.instance.id",
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "group.protocol.type",
    "group.protocol",
    "group.remote.assignor",
    "coordinator.query.interval.ms",
    "max.poll.interval.ms",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "enable.auto.offset.store",
    "queued.min.messages",
    "queued.max.messages.kbytes",
    "fetch.wait.max.ms",
    "fetch.queue.backoff.ms",
    "fetch.message.max.bytes",
    "max.partition.fetch.bytes",
    "fetch.max.bytes",
    "fetch.min.bytes",
    "fetch.error.backoff.ms",
    "isolation.level",
    "enable.partition.eof",
    "check.crcs",
    "auto.offset.reset",
    "consume.callback.max.messages",
];

/// librdkafka properties only a producer reads; a consumer ignores them, with a warning.
const PRODUCER_ONLY: &[&str] = &[
    "transactional.id",
    "transaction.timeout.ms",
    "enable.idempotence",
    "enable.gapless.guarantee",
    "queue.buffering.max.messages",
    "queue.buffering.max.kbytes",
    "queue.buffering.max.ms",
    "linger.ms",
    "message.send.max.retries",
    "retries",
    "queue.buffering.backpressure.threshold",
    "compression.codec",
    "compression.type",
    "compression.level",
    "batch.num.messages",
    "batch.size",
    "delivery.report.only.error",
    "sticky.partitioning.linger.ms",
    "request.required.acks",
    "acks",
    "request.timeout.ms",
    "message.timeout.ms",
    "delivery.timeout.ms",
    "queuing.strategy",
    "partitioner",
];

/// The kind of Kafka client a set of properties is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    /// A stream's consumer, and the probes that check a source before it starts.
    Consumer,
    /// The dead-letter producer, `push` and `dlq replay`'s producer.
    Producer,
}

impl ClientKind {
    /// Whether a client of this kind reads the librdkafka property `key`.
    pub(crate) fn reads(self, key: &str) -> bool {
        let others = match self {
            Self::Consumer => PRODUCER_ONLY,
            Self::Producer => CONSUMER_ONLY,
        };
        !others.contains(&key)
    }
}
