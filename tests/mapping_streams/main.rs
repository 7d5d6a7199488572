//! Mapping streams end to end, each on the in-process mock cluster and on a real `tansu` broker:
//! the seed example, late arrivals, at-least-once restarts, two streams on one topic, and
//! partitions in parallel.

mod late_arrivals;
mod ordering;
mod restarts;
mod seed;
mod shared_topic;

use chalk_streams::prelude::*;
use chalk_streams::registry::Registry;
use serde::Deserialize;

/// The entity of every test here but the seed example's and the shared topic's.
#[derive(Features, Default)]
struct Event {
    #[primary]
    id: String,
    seen_within_deadline: Option<bool>,
    seen_always: Option<bool>,
}

#[derive(Deserialize)]
struct EventBody {
    id: String,
}

#[test]
fn registry_finds_every_stream_of_this_crate_with_its_metadata() {
    let registry = Registry::collect().expect("streams registered");
    let names: Vec<&str> = registry.streams().iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "doubler",
            "infinite_deadline",
            "mapping_streams::late_arrivals::within_deadline",
            "mapping_streams::seed::favorite_color",
            "ordered",
            "restartable",
            "tripler",
        ]
    );
    let favorite_color = registry
        .get("mapping_streams::seed::favorite_color")
        .expect("registered");
    assert!(std::ptr::eq(favorite_color.source(), &seed::USER_UPDATES));
    assert_eq!(
        favorite_color.function(),
        "mapping_streams::seed::favorite_color"
    );
    assert!(favorite_color
        .location()
        .starts_with("tests/mapping_streams/seed.rs:"));
    let tripler = registry.get("tripler").expect("registered");
    assert_eq!(tripler.function(), "mapping_streams::shared_topic::tripler");
    assert!(matches!(
        tripler.resolver(),
        chalk_streams::resolver::Resolver::Async(_)
    ));
    assert_eq!(
        late_arrivals::LATE_SOURCE
            .resolve(&|_| None, &Default::default())
            .err()
            .map(|e| e.len()),
        Some(1),
        "only the bootstrap server is missing without an override"
    );
}
