//! The registry's start-up problems: no streams, two with one name, an unknown name.

use chalk_streams::registry::{Registry, RegistryError, StreamDescriptor};
use chalk_streams::resolver::Resolver;

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
    for key in ["enable.auto.offset.store", "enable.auto.commit"] {
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
