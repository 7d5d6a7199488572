//! A `tansu` broker of a test's own: a real Kafka-compatible broker, in a child process on a
//! free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a broker has to start accepting connections.
const START_PATIENCE: Duration = Duration::from_secs(30);

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The `tansu` program: `$TANSU` if set, else `tansu` on the `PATH` (scripts/setup.sh installs
/// it with `cargo install`).
fn program() -> PathBuf {
    std::env::var_os("TANSU").map_or_else(|| PathBuf::from("tansu"), PathBuf::from)
}

/// Where a broker keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// In memory: gone when the broker stops.
    Memory,
    /// A SQLite file in the broker's directory: users and topics survive a restart.
    Sqlite,
}

/// A running `tansu` broker; killed when dropped.
pub struct Tansu {
    child: Option<Child>,
    port: u16,
    advertised_port: u16,
    storage: Storage,
    dir: tempfile::TempDir,
}

impl Tansu {
    /// A broker with in-memory storage and no authentication.
    pub fn start() -> Self {
        Self::start_with(Storage::Memory)
    }

    /// A broker with `storage` and no authentication.
    pub fn start_with(storage: Storage) -> Self {
        let port = free_port();
        let mut broker = Self {
            child: None,
            port,
            advertised_port: port,
            storage,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        broker.restart(false);
        broker
    }

    /// Where clients connect: the advertised address.
    pub fn bootstrap_servers(&self) -> String {
        format!("127.0.0.1:{}", self.advertised_port)
    }

    /// The port the broker itself listens on (behind a TLS terminator, not the advertised one).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Makes the broker advertise `port` (a TLS terminator's) from its next restart on.
    pub fn advertise(&mut self, port: u16) {
        self.advertised_port = port;
    }

    /// The broker's directory (its log file and SQLite storage).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// (Re)starts the broker on the same port and storage, requiring SASL authentication if
    /// `authentication`; returns once it accepts connections.
    pub fn restart(&mut self, authentication: bool) {
        self.stop();
        let storage = match self.storage {
            Storage::Memory => "memory://tansu/".to_owned(),
            // tansu reads the path relative to its working directory.
            Storage::Sqlite => "sqlite://tansu.db".to_owned(),
        };
        let log = std::fs::File::create(self.dir.path().join("tansu.log")).expect("log file");
        let mut command = Command::new(program());
        command
            .arg("broker")
            .args(["--storage-engine", &storage])
            .args(["--listener-url", &format!("tcp://127.0.0.1:{}", self.port)])
            .args([
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", self.advertised_port),
            ])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        if authentication {
            command.arg("--authentication");
        }
        let child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "cannot run `{}` ({error}): run scripts/setup.sh, which installs it",
                program().display()
            )
        });
        self.child = Some(child);
        self.wait_until_listening();
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + START_PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("tansu exited with {status} at start:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "tansu did not listen within {START_PATIENCE:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the broker printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tansu.log")).unwrap_or_default()
    }

    /// Creates a SCRAM user (`mechanism` is `scram256` or `scram512`); the broker must run
    /// without authentication.
    pub fn create_user(&self, mechanism: &str, name: &str, password: &str) {
        let status = Command::new(program())
            .args(["user", "create", "--mechanism", mechanism])
            .args(["--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .args([name, password])
            .stdout(Stdio::null())
            .status()
            .expect("tansu user create runs");
        assert!(status.success(), "tansu user create {name}: {status}");
    }

    /// Stops the broker (SIGKILL) and waits for it to be gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.stop();
    }
}
