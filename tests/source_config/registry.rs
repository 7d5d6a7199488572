//! The registry's start-up problems: no streams, two with one name, an unknown name.

use chalk_streams::registry::{Registry, RegistryError, StreamDescriptor};
use chalk_streams::resolver::Resolver;
use chalk_streams::runtime::DEFAULT_WINDOW_RETENTION;

use super::*;

fn never(
    _: &chalk_streams::message::RawMessage<'_>,
    _: &mut Vec<chalk_streams::FeatureRow>,
) -> Result<(), chalk_streams::resolver::MessageError> {
    Ok(())
}

static ANY_SOURCE: KafkaSource = KafkaSource::new();
static FIRST: StreamDescriptor = StreamDescriptor::new(
    "orders",
    "app::a",
    &ANY_SOURCE,
    Resolver::Sync(never),
    "src/a.rs",
    3,
);
static SECOND: StreamDescriptor = StreamDescriptor::new(
    "orders",
    "app::b",
    &ANY_SOURCE,
    Resolver::Sync(never),
    "src/b.rs",
    7,
);

#[test]
fn registry_start_up_problems() {
    let empty = Registry::from_descriptors(Vec::new()).expect_err("empty");
    assert_eq!(empty, RegistryError::Empty);
    assert!(empty.to_string().starts_with(
        "no streams are registered: annotate a function with #[stream(source = ...)]"
    ));

    let duplicate = Registry::from_descriptors(vec![&FIRST, &SECOND]).expect_err("duplicate");
    assert_eq!(
        duplicate.to_string(),
        "two streams are named `orders` (src/a.rs:3 and src/b.rs:7): each stream needs its own consumer group; give one of them #[stream(name = \"...\")]"
    );

    let one = Registry::from_descriptors(vec![&FIRST]).expect("valid");
    let unknown = one.select(&["order"]).expect_err("unknown");
    assert_eq!(
        unknown.to_string(),
        "no stream is named `order` (did you mean `orders`?); registered streams: orders"
    );
}

#[test]
fn the_runtime_refuses_to_hand_offset_handling_to_librdkafka() {
    let registry = || Registry::from_descriptors(vec![&FIRST]).expect("valid");
    for key in [
        "enable.auto.offset.store",
        "enable.auto.commit",
        "enable.partition.eof",
        // One group for every stream: each would read only some partitions of its topics.
        "group.id",
    ] {
        let refused = chalk_streams::runtime::Runtime::new(registry())
            .kafka_property(key, "true")
            .plan()
            .expect_err("refused");
        assert!(
            refused
                .to_string()
                .starts_with(&format!("`{key}` cannot be set with kafka_property: ")),
            "{refused}"
        );
    }
}

static TOPICS_SOURCE: KafkaSource = KafkaSource::new().topic("lines");
static TEXT_LINES: StreamDescriptor = StreamDescriptor::new(
    "lines",
    "app::lines",
    &TOPICS_SOURCE,
    Resolver::Sync(never),
    "src/lines.rs",
    1,
)
.with_payload_schema(chalk_streams::schema::text_schema);
static RAW_LINES: StreamDescriptor = StreamDescriptor::new(
    "raw_lines",
    "app::raw_lines",
    &TOPICS_SOURCE,
    Resolver::Sync(never),
    "src/lines.rs",
    9,
)
.with_payload_schema(chalk_streams::schema::bytes_schema);

#[test]
fn asyncapi_describes_raw_payloads_as_they_are_sent_and_refuses_to_leave_a_stream_out() {
    let registry = Registry::from_descriptors(vec![&TEXT_LINES, &RAW_LINES]).expect("valid");
    let doc = chalk_streams::asyncapi::document(&registry, "t", "1", DEFAULT_WINDOW_RETENTION)
        .expect("described");
    let messages = &doc["channels"]["lines"]["messages"];
    assert_eq!(messages["lines_payload"]["contentType"], "text/plain");
    assert_eq!(
        messages["raw_lines_payload"]["contentType"],
        "application/octet-stream"
    );

    // `ANY_SOURCE` names no topic, and none is in the environment: the stream cannot be
    // described, and the document is refused rather than printed without it.
    let registry = Registry::from_descriptors(vec![&FIRST, &TEXT_LINES]).expect("valid");
    let problems = chalk_streams::asyncapi::document(&registry, "t", "1", DEFAULT_WINDOW_RETENTION)
        .expect_err("refused");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("stream `orders`: option `topic`"),
        "{problems:?}"
    );
}

static SHOP: KafkaSource = KafkaSource::new()
    .topic("orders")
    .bootstrap_server("127.0.0.1:9092");
static SHOP_UNPREFIXED: KafkaSource = KafkaSource::new()
    .topic("orders")
    .bootstrap_server("127.0.0.1:9092")
    .group_id_prefix("");
static OTHER_CLUSTER: KafkaSource = KafkaSource::new()
    .topic("orders")
    .bootstrap_server("127.0.0.2:9092")
    .group_id_prefix("");
static OTHER_TOPIC: KafkaSource = KafkaSource::new()
    .topic("refunds")
    .bootstrap_server("127.0.0.1:9092")
    .group_id_prefix("");

const fn orders_stream(name: &'static str, source: &'static KafkaSource) -> StreamDescriptor {
    StreamDescriptor::new(name, name, source, Resolver::Sync(never), "src/a.rs", 3)
}

static PREFIXED: StreamDescriptor = orders_stream("orders", &SHOP);
static UNPREFIXED: StreamDescriptor = orders_stream("chalk/orders", &SHOP_UNPREFIXED);
static ON_ANOTHER_CLUSTER: StreamDescriptor = orders_stream("chalk/orders", &OTHER_CLUSTER);
static ON_ANOTHER_TOPIC: StreamDescriptor = orders_stream("chalk/orders", &OTHER_TOPIC);

/// Two streams whose names differ but whose consumer groups do not (through their sources'
/// prefixes), on the same brokers and topic, would share its partitions: refused at start, also
/// where each runs alone (`run --only`, in two processes). On other brokers, or other topics,
/// they share nothing.
#[test]
fn two_streams_in_one_consumer_group_are_refused() {
    let plan = |streams, only: &[&str]| {
        let registry = Registry::from_descriptors(streams).expect("valid");
        chalk_streams::runtime::Runtime::new(registry)
            .env(|_| None)
            .only(only)
            .expect("declared")
            .plan()
    };
    let expected = "configuration problem: stream `orders`: option `name`: its consumer group \
                    `chalk/orders` is stream `chalk/orders`'s too, on the same brokers and \
                    topics: the two would share the partitions, each reading only some of them; \
                    give one of them another name (#[stream(name = \"...\")]) or group_id_prefix";
    for only in [&[][..], &["orders"]] {
        let refused = plan(vec![&PREFIXED, &UNPREFIXED], only).expect_err("one group");
        assert_eq!(refused.to_string(), expected, "{only:?}");
    }
    for apart in [&ON_ANOTHER_CLUSTER, &ON_ANOTHER_TOPIC] {
        let plans = plan(vec![&PREFIXED, apart], &[]).expect("apart");
        assert_eq!(plans.len(), 2);
    }
}
