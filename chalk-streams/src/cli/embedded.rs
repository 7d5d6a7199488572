//! `run --embedded`: the whole pipeline on an in-process Kafka cluster, with no broker to install.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::touched::TouchedStore;
use crate::error::{Error, Result};
use crate::observe::{Listener, ObservedStreams};
use crate::runtime::{Runtime, ShutdownSignal};
use crate::store::{Entity, StoreConfig, STORE_VAR};
use crate::testing::{MockKafka, Record};

/// Partitions of each topic the embedded cluster creates.
const PARTITIONS: i32 = 4;
/// How long the samples may take to be processed before the demo gives up.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// What the embedded run works with besides the runtime.
pub(super) struct Embedded<'a> {
    /// The sample messages produced before the streams start.
    pub(super) samples: &'a [Record],
    /// The runtime's store, which knows what this run wrote.
    pub(super) store: Arc<TouchedStore>,
    /// Whether the streams go on after the samples, until a signal.
    pub(super) keep_running: bool,
    /// Where to serve the observability endpoints, bound already.
    pub(super) metrics: Option<Listener>,
}

impl Embedded<'_> {
    /// Produces the samples to an in-process cluster, runs `runtime`'s streams until they are
    /// processed, and prints the features this run wrote.
    pub(super) async fn run(self, runtime: Runtime, mut signal: ShutdownSignal) -> Result<()> {
        let Self {
            samples,
            store,
            keep_running,
            metrics,
        } = self;
        let kafka = MockKafka::start(1)?;
        let mut runtime = runtime
            .bootstrap_servers(kafka.bootstrap_servers())
            .plain_connections();
        let plans = runtime.plan()?;
        // The embedded cluster has one member per group: rejoin fast after a restart. (The
        // `consumer` group protocol takes its session timeout from the broker, and librdkafka
        // refuses a client that sets one.)
        let consumer_protocol = |plan: &crate::runtime::StreamPlan| {
            plan.source
                .consumer_properties(plan.descriptor.name())
                .uses_the_consumer_group_protocol()
        };
        if !plans.iter().any(consumer_protocol) {
            runtime = runtime.kafka_property("session.timeout.ms", "6000");
        }

        let topics: BTreeSet<&str> = plans
            .iter()
            .flat_map(|p| {
                p.source
                    .topics
                    .iter()
                    .chain(&p.source.dead_letter_queue_topic)
            })
            .map(String::as_str)
            .collect();
        for topic in &topics {
            kafka.create_topic(topic, PARTITIONS)?;
        }

        let mut produced: BTreeMap<&str, u64> = BTreeMap::new();
        for record in samples {
            kafka.produce(record).await?;
            *produced.entry(record.topic.as_str()).or_default() += 1;
        }
        let total: u64 = produced.values().sum();
        crate::cli::stdout::print(format_args!(
            "embedded Kafka on {} with topics {}; {total} sample messages produced\n",
            kafka.bootstrap_servers(),
            topics.iter().copied().collect::<Vec<_>>().join(", ")
        ))?;

        let running = runtime.start().await?;
        let _server = match metrics {
            Some(listener) => {
                crate::cli::stdout::print(format_args!(
                    "metrics on http://{}/metrics\n",
                    listener.local_addr()
                ))?;
                Some(listener.serve(ObservedStreams::from(&running)))
            }
            None => None,
        };
        for plan in &plans {
            let name = plan.descriptor.name();
            let expected: u64 = plan
                .source
                .topics
                .iter()
                .map(|t| produced.get(t.as_str()).copied().unwrap_or(0))
                .sum();
            let Some(stats) = running.stats(name) else {
                continue;
            };
            let (snapshot, done) = tokio::select! {
                waited = stats.wait_for(PROCESS_TIMEOUT, |s| s.handled() >= expected) => waited,
                () = signal.recv() => {
                    crate::cli::stdout::print(format_args!("interrupted; shutting down\n"))?;
                    return running.shutdown().await;
                }
            };
            let windows = match (
                plan.descriptor.windows().is_empty(),
                snapshot.windows_retained,
            ) {
                (true, _) => String::new(),
                (false, 0) => format!(", {} windows fired", snapshot.windows_fired),
                (false, open) => format!(
                    ", {} windows fired, {open} still open (a window fires at its end)",
                    snapshot.windows_fired
                ),
            };
            crate::cli::stdout::print(format_args!(
            "stream {name}: {} processed, {} skipped as late, {} failed, {} feature rows written{windows}\n",
            snapshot.processed, snapshot.skipped_late, snapshot.failed, snapshot.rows_written
        ))?;
            if !done {
                let _ = running.shutdown().await;
                // Writes that keep failing are the store (or the dead-letter topic) down, not
                // the embedded cluster.
                let retried = match snapshot.retries {
                    0 => String::new(),
                    n => format!(
                        "; writes to the store or the dead-letter topic failed and were retried \
                         {n} times: is the store reachable? (see the log)"
                    ),
                };
                return Err(Error::Embedded(format!(
                    "stream `{name}` handled {} of {expected} sample messages within \
                     {PROCESS_TIMEOUT:?}{retried}",
                    snapshot.handled()
                )));
            }
        }

        let entities = store.entities().await?;
        crate::cli::stdout::print(format_args!("\n{}", written_by_this_run(&entities)))?;
        if keep_running {
            crate::cli::stdout::print(format_args!(
                "\nstreams keep running; push messages to the embedded cluster or press Ctrl-C\n"
            ))?;
            running.run_until(signal).await
        } else {
            running.shutdown().await
        }
    }
}

/// What an embedded run prints of what it wrote: the features' table, or a line saying there
/// are none (an empty table would read as a failure to print one).
fn written_by_this_run(entities: &[Entity]) -> String {
    if entities.is_empty() {
        "no features written by this run\n".to_owned()
    } else {
        render_features(entities)
    }
}

/// One line per stored feature: entity, key, feature, value, feature time.
pub(crate) fn render_features(entities: &[Entity]) -> String {
    let rows: Vec<[String; 5]> = entities
        .iter()
        .flat_map(|e| {
            e.features.iter().map(|(name, stored)| {
                [
                    e.namespace.clone(),
                    e.key.clone(),
                    name.clone(),
                    stored.value.to_string(),
                    stored.time.to_string(),
                ]
            })
        })
        .collect();
    super::table::render(
        &["ENTITY", "KEY", "FEATURE", "VALUE", "FEATURE TIME"],
        &rows,
    )
}

/// Refuses a Redis server that `CHALK_STORE` names: an embedded run writes its sample
/// messages' features, stamped with the current time, which would replace the newer real
/// values of the same keys there (a production server named in a shell's environment, say;
/// one on this machine may be a tunnel to one elsewhere, as the README advises for TLS).
/// `--store` names such a store on purpose.
pub(super) fn refuse_a_shared_store(store: &StoreConfig) -> Result<()> {
    if !store.is_a_server() {
        return Ok(());
    }
    Err(Error::Embedded(format!(
        "{STORE_VAR} names {store}, a server that other programs may use: an embedded run would \
         write its sample messages' features there; name it with --store to write there \
         anyway, or unset {STORE_VAR}"
    )))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::features::FeatureValue;
    use crate::message::Timestamp;
    use crate::store::StoredFeature;

    #[test]
    fn a_run_that_wrote_nothing_says_so_rather_than_print_an_empty_table() {
        assert_eq!(
            written_by_this_run(&[]),
            "no features written by this run\n"
        );
        let user = Entity {
            namespace: "user".to_owned(),
            key: "u1".to_owned(),
            features: BTreeMap::from([(
                "favorite_color".to_owned(),
                StoredFeature {
                    value: FeatureValue::String("red".to_owned()),
                    time: Timestamp::from_millis(0),
                },
            )]),
        };
        let printed = written_by_this_run(&[user]);
        assert!(printed.starts_with("ENTITY"), "{printed}");
        assert!(printed.contains("favorite_color  red"), "{printed}");
    }
}
