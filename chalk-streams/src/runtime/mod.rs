//! The runtime for mapping and window streams: one consumer group per stream, one worker per
//! assigned partition, at-least-once and gap-free offset commits, clean shutdown.
//!
//! A mapping stream's message: poll → late-arrival check on the Kafka timestamp (before
//! decoding) → decode → resolver → rows written to the store (per batch; a store that writes
//! behind accepts them, and the offset waits until it has written them) → offset stored. A
//! window stream's messages are kept in their windows, late by the window's end, and its offsets
//! stay at the first message of a window still retained (see `window`). Offsets are stored
//! only once every message before them in the partition is done. The runtime commits what is
//! stored every `auto.commit.interval.ms` (1 s), on revoke and at shutdown, one commit at a
//! time and each waited for, so that no earlier commit lands after a later one.

mod catch_up;
pub mod clock;
mod commit;
mod context;
mod delivery;
mod describe;
pub(crate) mod guard;
mod latency;
pub(crate) mod lead;
mod log_limit;
pub mod offsets;
pub(crate) mod partition;
mod partition_queue;
mod predecessors;
mod preflight;
mod record;
mod refused;
mod round_trip;
mod running;
mod shared;
mod stats;
mod stream;
mod unconfirmed;
pub(crate) mod window;
mod window_fire;
pub(crate) mod window_marks;
pub(crate) mod window_resolver;
pub(crate) mod window_task;

use std::sync::Arc;
use std::time::Duration;

use crate::dlq::DeadLetterQueue;
use crate::duration::LateArrivalDeadline;
use crate::error::{Error, Result};
use crate::registry::{Registry, StreamDescriptor};
use crate::source::properties::ClientKind;
use crate::source::property_names::offset_handling;
use crate::source::resolve::{process_env, Overrides};
use crate::source::ResolvedSource;
use crate::store::{FeatureStore, MemoryStore};
use clock::{Clock, SystemClock};

pub(crate) use describe::{problem_of, StreamDescription};
pub use latency::LatencySnapshot;
pub use lead::DEFAULT_MAX_TIMESTAMP_LEAD;
pub use round_trip::BrokerRoundTrip;
pub use running::{RunningStreams, ShutdownSignal};
pub(crate) use shared::StreamShared;
pub use stats::{StatsSnapshot, StreamStats, REBALANCE_GRACE};
use stream::StreamHandle;

/// How long a window is kept after its end, at most, when the late-arrival deadline is infinite:
/// one day. Memory and start-up replay are bounded by it.
pub const DEFAULT_WINDOW_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// How often each stream's progress line is logged by default: every 30 s.
pub const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_secs(30);

/// How often librdkafka reports statistics (consumer lag) by default: every 5 s.
pub const DEFAULT_STATISTICS_INTERVAL: Duration = Duration::from_secs(5);

/// How long start-up waits for each stream's brokers to answer the connection check.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A stream with its source resolved: what `run` starts.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    /// The declared stream.
    pub descriptor: &'static StreamDescriptor,
    /// Its source, resolved and checked.
    pub source: ResolvedSource,
}

impl StreamPlan {
    /// The stream's consumer group.
    pub fn group_id(&self) -> String {
        self.source.group_id(self.descriptor.name())
    }
}

type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Configures and starts the declared streams.
///
/// ```no_run
/// # async fn run() -> chalk_streams::Result<()> {
/// let running = chalk_streams::Runtime::from_registry()?.start().await?;
/// running.run_until_signal().await
/// # }
/// ```
pub struct Runtime {
    registry: Registry,
    store: Arc<dyn FeatureStore>,
    overrides: Overrides,
    properties: Vec<(String, String)>,
    env: Arc<EnvFn>,
    drain_timeout: Duration,
    shutdown_timeout: Duration,
    clock: Arc<dyn Clock>,
    window_retention: Duration,
    max_timestamp_lead: Duration,
    progress_interval: Duration,
    statistics_interval: Duration,
    connect_timeout: Duration,
}

impl Runtime {
    /// A runtime for the given streams, with an in-memory store.
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            store: Arc::new(MemoryStore::new()),
            overrides: Overrides::default(),
            properties: Vec::new(),
            env: Arc::new(process_env),
            drain_timeout: Duration::from_secs(20),
            shutdown_timeout: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
            window_retention: DEFAULT_WINDOW_RETENTION,
            max_timestamp_lead: DEFAULT_MAX_TIMESTAMP_LEAD,
            progress_interval: DEFAULT_PROGRESS_INTERVAL,
            statistics_interval: DEFAULT_STATISTICS_INTERVAL,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// A runtime for every `#[stream]` in the program.
    pub fn from_registry() -> Result<Self> {
        Ok(Self::new(Registry::collect()?))
    }

    /// Runs only the named streams.
    pub fn only<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self> {
        self.registry = self.registry.select(names)?;
        Ok(self)
    }

    /// Writes features to `store` instead of memory.
    pub fn store(mut self, store: Arc<dyn FeatureStore>) -> Self {
        self.store = store;
        self
    }

    /// The store features are written to.
    pub fn feature_store(&self) -> Arc<dyn FeatureStore> {
        Arc::clone(&self.store)
    }

    /// Uses these brokers for every source, whatever the sources say (embedded mode, tests).
    pub fn bootstrap_servers(mut self, servers: impl Into<String>) -> Self {
        self.overrides.bootstrap_servers = Some(servers.into());
        self
    }

    /// Connects without TLS or SASL, whatever the sources say (embedded mode: the in-process
    /// cluster takes plain connections only; a source's key files are then not fetched).
    pub fn plain_connections(mut self) -> Self {
        self.overrides.plaintext = true;
        self
    }

    /// Sets a librdkafka property on every stream's clients (its consumer, and its dead-letter
    /// producer unless only a consumer reads the property), after the source's own. Offset
    /// handling (`enable.auto.commit`, `enable.auto.offset.store`, `enable.partition.eof`) is
    /// chalk-streams' own, and each stream has a consumer group of its own (`group.id` is the
    /// source's `group_id_prefix` and the stream's name): [`plan`](Self::plan) and
    /// [`start`](Self::start) refuse them.
    pub fn kafka_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    /// Resolves sources from `env` instead of the process environment.
    pub fn env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Arc::new(env);
        self
    }

    /// How long a revoked or stopping partition may take to finish its batch in hand.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Reads the time from `clock` instead of the system clock (late-arrival checks, windows).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How long a window stream keeps a window after its end when its source's late-arrival
    /// deadline is infinite (a finite deadline is used as it is, up to this cap too). Default
    /// [`DEFAULT_WINDOW_RETENTION`].
    pub fn window_retention(mut self, retention: Duration) -> Self {
        self.window_retention = retention;
        self
    }

    /// How far ahead of the clock a message may be stamped: one further ahead fails in phase
    /// `parse` (dead-lettered if its source has a topic for it), since its feature time would
    /// keep every later value of its entity out until the clock reached it, and its window
    /// would hold back the partition's commits until then. Default
    /// [`DEFAULT_MAX_TIMESTAMP_LEAD`], an hour; `Duration::MAX` takes any timestamp (then a
    /// window message stamped in microseconds keeps its window and the commits behind for ever).
    pub fn max_timestamp_lead(mut self, lead: Duration) -> Self {
        self.max_timestamp_lead = lead;
        self
    }

    /// How often each stream logs its progress line at `info` (rate, lag, late and failed
    /// messages since the last line). Default [`DEFAULT_PROGRESS_INTERVAL`]; zero (or an
    /// interval too long for the clock, such as `Duration::MAX`) turns it off.
    pub fn progress_interval(mut self, every: Duration) -> Self {
        self.progress_interval = every;
        self
    }

    /// How often librdkafka reports statistics, from which consumer lag is read (its
    /// `statistics.interval.ms`, unless a source or [`kafka_property`](Self::kafka_property)
    /// sets that). Default [`DEFAULT_STATISTICS_INTERVAL`]; zero turns statistics off.
    pub fn statistics_interval(mut self, every: Duration) -> Self {
        self.statistics_interval = every;
        self
    }

    /// How long start-up waits for each stream's brokers to answer before starting anyway
    /// (default [`DEFAULT_CONNECT_TIMEOUT`]). A failed login or a refused configuration stops
    /// start-up as soon as librdkafka reports it.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long shutdown may take in all streams together (default 30 s). Past it, `shutdown`
    /// returns [`Error::ShutdownTimeout`] naming the streams
    /// still stopping; what they had not committed is processed again after a restart.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The streams this runtime runs.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Resolves and checks every stream's source. All problems are reported together.
    pub fn plan(&self) -> Result<Vec<StreamPlan>> {
        if let Some((key, why)) = self
            .properties
            .iter()
            .find_map(|(key, _)| offset_handling(key).map(|why| (key, why)))
        {
            return Err(Error::ManagedProperty {
                key: key.clone(),
                why,
            });
        }
        let mut plans = Vec::new();
        let mut problems = Vec::new();
        for stream in self.describe() {
            if stream.problems.is_empty() {
                plans.push(StreamPlan {
                    descriptor: stream.descriptor,
                    source: stream.source,
                });
            }
            problems.extend(stream.problems);
        }
        if problems.is_empty() {
            Ok(plans)
        } else {
            Err(Error::Config(problems))
        }
    }

    /// Starts every stream. Sources are checked first, then each stream's brokers are reached
    /// and its credentials tried: nothing starts if any is misconfigured or cannot log in.
    pub async fn start(self) -> Result<RunningStreams> {
        let mut plans = self.plan()?;
        // s3:// and gs:// keystores and CA files become private local copies, kept until the
        // streams stop.
        let store_env = crate::source::remote::StoreEnv::capture(&*self.env);
        let remote_files = crate::source::remote::localize_plans(&mut plans, &store_env).await?;
        preflight::check_connections(&plans, &self.properties, self.connect_timeout).await?;
        let mut running = RunningStreams {
            streams: Vec::with_capacity(plans.len()),
            store: Arc::clone(&self.store),
            shutdown_timeout: self.shutdown_timeout,
            progress: None,
            remote_files,
        };
        describe::warn_of_windows_across_topics(&plans);
        // Every dead-letter producer is made before any stream starts: one librdkafka refuses
        // stops start-up before any consumer joins its group (and rebalances the others').
        let mut ready = Vec::with_capacity(plans.len());
        for plan in plans {
            let dlq = self.dead_letter_queue(&plan)?;
            ready.push((plan, dlq));
        }
        for (plan, dlq) in ready {
            match self.start_stream(plan, dlq).await {
                Ok(stream) => running.streams.push(stream),
                Err(error) => {
                    let _ = running.shutdown().await;
                    return Err(error);
                }
            }
        }
        tracing::info!(streams = running.streams.len(), "all streams started");
        describe::note_declarations(&self.registry);
        running.progress = crate::observe::progress::ProgressLog::start(
            crate::observe::ObservedStreams::from(&running),
            self.progress_interval,
        );
        Ok(running)
    }

    /// A stream's dead-letter producer, if its source has a dead-letter topic. It connects as
    /// the consumer does (the source's security, `additional_kafka_args` and
    /// [`kafka_property`](Self::kafka_property)), without the properties only a consumer reads.
    fn dead_letter_queue(&self, plan: &StreamPlan) -> Result<Option<DeadLetterQueue>> {
        let Some(topic) = &plan.source.dead_letter_queue_topic else {
            return Ok(None);
        };
        let name = plan.descriptor.name();
        let mut properties = plan.source.producer_properties();
        properties.extend_for(ClientKind::Producer, &self.properties);
        let client_id = format!("{}/dlq", plan.source.client_id(name));
        DeadLetterQueue::new(properties, client_id, topic.clone(), name)
            .map(Some)
            .map_err(|source| Error::Client {
                stream: name.to_owned(),
                source,
            })
    }

    async fn start_stream(
        &self,
        plan: StreamPlan,
        dlq: Option<DeadLetterQueue>,
    ) -> Result<StreamHandle> {
        let name = plan.descriptor.name();
        if let LateArrivalDeadline::Within(deadline) = plan.source.late_arrival_deadline {
            if !plan.descriptor.windows().is_empty() && deadline > self.window_retention {
                tracing::warn!(
                    stream = name,
                    deadline = %humantime::format_duration(deadline),
                    window_retention = %humantime::format_duration(self.window_retention),
                    "the late-arrival deadline is longer than the window retention, which caps \
                     it: a message whose window ended more than the retention ago is skipped \
                     as late; raise the retention (`run --window-retention`)"
                );
            }
        }
        let mut properties = plan.source.consumer_properties(name);
        if properties.get("statistics.interval.ms").is_none() {
            properties.set(
                "statistics.interval.ms",
                self.statistics_interval.as_millis().to_string(),
            );
        }
        properties.extend_for(ClientKind::Consumer, &self.properties);
        for weakened in properties.weakened_guarantees() {
            tracing::warn!(
                stream = name,
                "configured to give up a guarantee: {weakened}"
            );
        }
        let shared = Arc::new(StreamShared {
            descriptor: plan.descriptor,
            deadline: plan.source.late_arrival_deadline,
            store: Arc::clone(&self.store),
            stats: Arc::new(StreamStats::default()),
            handle: tokio::runtime::Handle::current(),
            drain_timeout: self.drain_timeout,
            dlq,
            clock: Arc::clone(&self.clock),
            window_retention: self.window_retention,
            max_timestamp_lead: self.max_timestamp_lead,
            take_batches: !properties.rebalances_incrementally(),
            window_marks: window_marks::WindowMarks::default(),
            rebalances: Default::default(),
        });
        StreamHandle::start(shared, properties, plan.source.topics).await
    }
}
