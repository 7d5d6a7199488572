//! Helpers shared by the integration tests: brokers (the mock cluster and `tansu`) with topics,
//! a runtime wired to one, servers of the tests' own.

mod broker;
pub mod rebalance;
pub mod server;
pub mod sqlite_file;
pub mod tansu;
pub mod tls;

pub use broker::Broker;
use std::time::Duration;

use std::sync::Arc;

use chalk_streams::runtime::{StatsSnapshot, StreamStats};
use chalk_streams::store::FeatureStore;
use chalk_streams::testing::{KafkaTestClient, MockKafka};
use chalk_streams::Runtime;

/// How long a test waits for an event before failing.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A mock cluster with each topic created with `partitions` partitions.
pub fn kafka_with_topics(topics: &[&str], partitions: i32) -> MockKafka {
    let kafka = MockKafka::start(1).expect("mock cluster starts");
    for topic in topics {
        kafka
            .create_topic(topic, partitions)
            .expect("topic created");
    }
    kafka
}

/// A runtime that runs only `streams`, on `kafka`, tuned for fast group joins.
pub fn runtime_for(kafka: &KafkaTestClient, streams: &[&str]) -> Runtime {
    Runtime::from_registry()
        .expect("streams are registered")
        .only(streams)
        .expect("the streams exist")
        .bootstrap_servers(kafka.bootstrap_servers())
        .kafka_property("session.timeout.ms", "6000")
        .kafka_property("heartbeat.interval.ms", "500")
}

/// Waits until `done` holds, re-checking whenever any of `stats` changes; panics after
/// [`PATIENCE`].
pub async fn wait_until(stats: &[&StreamStats], done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut changes: Vec<_> = stats.iter().map(|s| Box::pin(s.next_change())).collect();
        for change in &mut changes {
            change.as_mut().enable();
        }
        if done() {
            return;
        }
        let any_change = futures::future::select_all(changes);
        if tokio::time::timeout_at(deadline, any_change).await.is_err() {
            panic!("condition not reached within {PATIENCE:?}");
        }
    }
}

/// `GET http://addr/path`: status and body; panics if the server does not answer.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    try_http_get(addr, path).await.expect("the server answers")
}

/// `GET http://addr/path`: status and body, or why the server did not answer (not listening
/// yet, connection broken).
pub async fn try_http_get(addr: std::net::SocketAddr, path: &str) -> Result<(u16, String), String> {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<hyper::body::Bytes>>();
    let uri = format!("http://{addr}{path}").parse().expect("a URI");
    let response = client.get(uri).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8(body.to_vec()).expect("UTF-8")))
}

/// The `favorite_color` example.
pub fn example_path() -> std::path::PathBuf {
    example_named("favorite_color")
}

/// Runs `stream` on `kafka`, writing to `store`, until it has handled `messages` messages, then
/// shuts it down cleanly. Returns its counters.
pub async fn run_until_handled(
    kafka: &KafkaTestClient,
    stream: &str,
    store: Arc<dyn FeatureStore>,
    messages: u64,
) -> StatsSnapshot {
    let running = runtime_for(kafka, &[stream])
        .store(store)
        .start()
        .await
        .expect("the runtime starts");
    let (snapshot, done) = running
        .stats(stream)
        .expect("the stream runs")
        .wait_for(PATIENCE, |s| s.handled() == messages)
        .await;
    assert!(done, "{stream} handled {messages} messages: {snapshot:?}");
    running.shutdown().await.expect("clean shutdown");
    snapshot
}

/// A `redis-server` of this test's own on a free loopback port, with an append-only file synced
/// on every write, so that a killed server restarts with everything it acknowledged.
pub struct RedisServer {
    process: Option<server::ServerProcess>,
    port: u16,
    dir: tempfile::TempDir,
    /// Settings of the test's own, given at every start.
    settings: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server on a free port with these settings besides (`--proto-max-bulk-len`,
    /// `1mb`, say).
    pub fn start_with(settings: &[&str]) -> Self {
        let mut server = Self {
            process: None,
            port: server::free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
        };
        server.restart();
        server
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        self.process = None;
    }

    /// Starts the server again on the same port and data directory; returns once it answers
    /// commands (a server accepts connections while it loads its data, and refuses commands
    /// with `LOADING` until it is done).
    pub fn restart(&mut self) {
        self.kill();
        let mut command = std::process::Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.settings);
        self.process = Some(server::ServerProcess::spawn(
            command,
            self.port,
            &self.dir.path().join("redis.log"),
            Duration::from_secs(20),
        ));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let answer = self.ping();
            if answer.starts_with("+PONG") {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not answer PING within 20 s (last answer: {answer:?})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's first line of answer to `PING` (`+PONG`, or an error such as `-LOADING`).
    fn ping(&self) -> String {
        use std::io::{BufRead, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return String::new();
        };
        let mut answer = String::new();
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        if stream.write_all(b"PING\r\n").is_ok() {
            let _ = std::io::BufReader::new(stream).read_line(&mut answer);
        }
        answer
    }
}

/// The `favorite_color` feature of user `user` (the seed example's entity), if stored.
pub async fn user_color(
    store: &dyn FeatureStore,
    user: &str,
) -> Option<chalk_streams::FeatureValue> {
    store
        .entity("user", user)
        .await
        .expect("store read")
        .and_then(|u| u.features.get("favorite_color").map(|f| f.value.clone()))
}

/// An environment lookup over `pairs`, for [`Runtime::env`].
pub fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    move |var| map.get(var).cloned()
}

/// Runs `command` to its end with `stdin` as its input and returns its output; after `bound`,
/// kills it and panics. Its input is written, and its exit awaited, on threads of their own.
pub fn output_within(
    command: &mut std::process::Command,
    stdin: &[u8],
    bound: Duration,
) -> std::process::Output {
    use std::io::Write as _;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the program starts");
    let pid = child.id();
    let mut input = child.stdin.take().expect("piped");
    let stdin = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait_with_output());
    });
    match exit.recv_timeout(bound) {
        Ok(output) => output.expect("it ran"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{command:?} did not exit within {bound:?}");
        }
    }
}

/// The `favorite_color` example's `check` with `vars` as its only Kafka and AWS variables (info
/// logging, memory store) and a deadline of 120 s; panics, after killing it, if it has not
/// exited within `bound` (under that deadline: a check that ends within it recognised its
/// problem rather than waited it out). Returns its output and how long it took.
pub fn example_check(vars: &[(&str, String)], bound: Duration) -> (std::process::Output, Duration) {
    let mut command = std::process::Command::new(example_path());
    for (var, _) in std::env::vars() {
        if var.contains("KAFKA_") || var.starts_with("AWS_") {
            command.env_remove(var);
        }
    }
    command
        .args(["check", "--timeout", "120s"])
        .env("RUST_LOG", "info")
        .env("CHALK_STORE", "memory")
        .envs(vars.iter().map(|(k, v)| (k, v)));
    let started = std::time::Instant::now();
    let output = output_within(&mut command, b"", bound);
    (output, started.elapsed())
}

/// The example called `name` (a file in `examples/`), built by `cargo build --examples`
/// (scripts/test.sh builds them before the tests).
pub fn example_named(name: &str) -> std::path::PathBuf {
    let deps = std::env::current_exe().expect("test binary path");
    let path = deps
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>/deps")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} missing: run `cargo build --examples` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// A gate resolvers wait at, closed until the test opens it: for stopping a stream with work in
/// flight, or holding a partition back.
pub struct Gate {
    open: std::sync::atomic::AtomicBool,
    opened: tokio::sync::Notify,
    reached: tokio::sync::Notify,
}

impl Gate {
    /// A closed gate.
    pub const fn new() -> Self {
        Self {
            open: std::sync::atomic::AtomicBool::new(false),
            opened: tokio::sync::Notify::const_new(),
            reached: tokio::sync::Notify::const_new(),
        }
    }

    /// Waits until the gate is open, telling [`Gate::reached`] that someone waits.
    pub async fn pass(&self) {
        use std::sync::atomic::Ordering;
        while !self.open.load(Ordering::SeqCst) {
            let opened = self.opened.notified();
            self.reached.notify_one();
            if self.open.load(Ordering::SeqCst) {
                break;
            }
            opened.await;
        }
    }

    /// Resolves once a resolver waits at the gate (or has waited since the last call).
    pub async fn reached(&self) {
        self.reached.notified().await;
    }

    /// Closes the gate again, for the next run of a test that shares it.
    pub fn close(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// Opens the gate until it is closed.
    pub fn open(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
        self.opened.notify_waiters();
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}
