//! The broker side of the benchmark: its topics, the mock cluster's host process, creating
//! topics on a real broker, producing; and starting one of the benchmark's streams.

use std::io::{Read, Write};
use std::time::Duration;

use chalk_streams::testing::MockKafka;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::ClientConfig;

use crate::{backlog, consumer_properties, fail, latency, SMALL_BACKLOG, TOPIC};

/// Every topic of a run with `messages` messages.
pub(crate) fn topics(messages: u64) -> Vec<String> {
    let mut topics = vec![
        TOPIC.to_owned(),
        latency::TOPIC_A.to_owned(),
        latency::TOPIC.to_owned(),
        backlog::topic(SMALL_BACKLOG),
    ];
    // A broker refuses to create a topic named twice in one request.
    if messages != SMALL_BACKLOG {
        topics.push(backlog::topic(messages));
    }
    topics
}

/// Hosts the mock cluster: prints its address, then lives until standard input closes.
pub(crate) fn serve_mock(partitions: i32, messages: u64) {
    let kafka = MockKafka::start(1).unwrap_or_else(|e| fail(&e.to_string()));
    for topic in topics(messages) {
        kafka
            .create_topic(&topic, partitions)
            .unwrap_or_else(|e| fail(&e.to_string()));
    }
    println!("{}", kafka.bootstrap_servers());
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// Creates the run's topics afresh on a real broker: those of an earlier run are deleted first,
/// so that no variant reads another run's messages.
pub(crate) fn create_topics(bootstrap: &str, partitions: i32, messages: u64) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let names = topics(messages);
    let new: Vec<NewTopic<'_>> = names
        .iter()
        .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1)))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let existing: Vec<&str> = names.iter().map(String::as_str).collect();
    // Deleting a topic that does not exist fails for that topic only; nothing to do then.
    let _ = runtime.block_on(admin.delete_topics(&existing, &AdminOptions::new()));
    for result in runtime
        .block_on(admin.create_topics(&new, &AdminOptions::new()))
        .unwrap_or_else(|e| fail(&e.to_string()))
    {
        if let Err((topic, code)) = result {
            fail(&format!("cannot create topic {topic}: {code}"));
        }
    }
}

/// Produces the messages as fast as the client allows, cycling through `keys` entity keys;
/// returns the payload bytes.
pub(crate) fn produce(bootstrap: &str, topic: &str, messages: u64, keys: u64) -> u64 {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let mut bytes = 0;
    for i in 0..messages {
        let key = format!("user-{}", i % keys);
        let payload = format!(
            r#"{{"user_id": "{key}", "favorite_color": "color-{:05}"}}"#,
            i % 50_000
        );
        bytes += payload.len() as u64;
        send(
            &producer,
            BaseRecord::to(topic)
                .key(key.as_str())
                .payload(payload.as_str()),
        );
    }
    producer
        .flush(Duration::from_secs(120))
        .unwrap_or_else(|e| fail(&e.to_string()));
    bytes
}

/// Hands `record` to the producer, serving its delivery reports while its queue is full.
pub(crate) fn send<C: ProducerContext<DeliveryOpaque = ()>>(
    producer: &BaseProducer<C>,
    mut record: BaseRecord<'_, str, str>,
) {
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, returned)) => {
                producer.poll(Duration::from_millis(1));
                record = returned;
            }
        }
    }
}

/// A tokio runtime for a variant's process.
pub(crate) fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()))
}

/// The registry's stream `name` alone, reading from `bootstrap` in a consumer group of this
/// process's own (its group prefix, through the source's variables), so that no two runs share
/// offsets, with the consumer properties `own` and then the run's `--consumer-property`
/// settings. Its other source variables come from `env`, then the process environment.
pub(crate) fn bench_stream(
    name: &str,
    bootstrap: &str,
    own: &[(&str, &str)],
    env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
) -> chalk_streams::Runtime {
    let group_prefix = format!("bench-{}/", std::process::id());
    let runtime = chalk_streams::Runtime::from_registry()
        .and_then(|r| r.only(&[name]))
        .unwrap_or_else(|e| fail(&e.to_string()))
        .bootstrap_servers(bootstrap)
        .env(move |var| {
            if var.ends_with("KAFKA_GROUP_ID_PREFIX") {
                return Some(group_prefix.clone());
            }
            env(var).or_else(|| std::env::var(var).ok())
        });
    let given = consumer_properties()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    own.iter()
        .copied()
        .chain(given)
        .fold(runtime, |runtime, (name, value)| {
            runtime.kafka_property(name, value)
        })
}

/// `config` with the run's `--consumer-property` settings over its own.
pub(crate) fn with_consumer_properties(mut config: ClientConfig) -> ClientConfig {
    for (name, value) in consumer_properties() {
        config.set(name, value);
    }
    config
}
