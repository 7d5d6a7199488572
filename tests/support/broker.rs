//! One test body, two brokers: librdkafka's mock cluster in this process, and a real `tansu`
//! broker in a child process.

use chalk_streams::testing::{KafkaTestClient, MockKafka};

use crate::tansu::Tansu;

/// The broker a test runs against.
pub enum Broker {
    /// librdkafka's mock cluster.
    Mock(MockKafka),
    /// A `tansu` broker, and a client connected to it.
    Tansu(Tansu, KafkaTestClient),
}

impl Broker {
    /// A fresh mock cluster.
    pub fn mock() -> Self {
        Self::Mock(MockKafka::start(1).expect("mock cluster starts"))
    }

    /// A fresh `tansu` broker with in-memory storage.
    pub fn tansu() -> Self {
        let tansu = Tansu::start();
        let client =
            KafkaTestClient::connect(&tansu.bootstrap_servers(), &[]).expect("a client for tansu");
        Self::Tansu(tansu, client)
    }

    /// A fresh broker of the same kind, for a test that needs a clean one.
    pub fn another(&self) -> Self {
        match self {
            Self::Mock(_) => Self::mock(),
            Self::Tansu(..) => Self::tansu(),
        }
    }

    /// Which broker this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Mock(_) => "mock cluster",
            Self::Tansu(..) => "tansu",
        }
    }

    /// Creates `topics`, each with `partitions` partitions.
    pub async fn with_topics(self, topics: &[&str], partitions: i32) -> Self {
        for topic in topics {
            self.create_topic(topic, partitions).await;
        }
        self
    }

    /// Creates `topic` with `partitions` partitions.
    pub async fn create_topic(&self, topic: &str, partitions: i32) {
        match self {
            Self::Mock(kafka) => kafka.create_topic(topic, partitions),
            Self::Tansu(_, client) => client.create_topic_with_admin(topic, partitions).await,
        }
        .unwrap_or_else(|e| panic!("topic `{topic}` created on the {}: {e}", self.kind()));
    }
}

impl std::ops::Deref for Broker {
    type Target = KafkaTestClient;

    fn deref(&self) -> &KafkaTestClient {
        match self {
            Self::Mock(kafka) => kafka,
            Self::Tansu(_, client) => client,
        }
    }
}

/// Declares, for each `async fn NAME(broker: Broker)` named, the tests `NAME::mock` and
/// `NAME::tansu`, which run it on a fresh mock cluster and on a fresh `tansu` broker.
///
/// `on_both_brokers!(NAME, tansu #[ignore = "why"])` gives the `tansu` test attributes of its
/// own: for a behaviour where tansu differs from Kafka, the reason stays next to the test.
///
/// The two never run at the same time: they share the test file's statics (gates, records of
/// what a resolver saw) and its streams.
#[macro_export]
macro_rules! on_both_brokers {
    ($($name:ident),+ $(,)?) => {$(
        $crate::on_both_brokers!(@one $name);
    )+};
    ($name:ident, tansu $(#[$tansu:meta])+) => {
        $crate::on_both_brokers!(@one $name $(#[$tansu])+);
    };
    (@one $name:ident $(#[$tansu:meta])*) => {
        mod $name {
            static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mock() {
                let _turn = ONE_AT_A_TIME.lock().await;
                super::$name($crate::Broker::mock()).await;
            }

            $(#[$tansu])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn tansu() {
                let _turn = ONE_AT_A_TIME.lock().await;
                super::$name($crate::Broker::tansu()).await;
            }
        }
    };
}
