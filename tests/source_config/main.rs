//! Source options: environment resolution for named and unnamed sources, defaults and
//! precedence, start-up contradictions, secrets, and the librdkafka properties produced.

use std::collections::HashMap;

use chalk_streams::prelude::*;
use chalk_streams::source::resolve::Overrides;
use chalk_streams::source::{ResolvedSource, SourceError};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |var| map.get(var).cloned()
}

fn resolve(
    source: &KafkaSource,
    pairs: &[(&str, &str)],
) -> Result<ResolvedSource, Vec<SourceError>> {
    source.resolve(&env(pairs), &Overrides::default())
}

fn problems(source: &KafkaSource, pairs: &[(&str, &str)]) -> Vec<String> {
    resolve(source, pairs)
        .expect_err("the source is misconfigured")
        .iter()
        .map(ToString::to_string)
        .collect()
}

mod contradictions;
mod properties;
mod registry;
mod resolution;
