//! A `tansu` broker of a test's own: a real Kafka-compatible broker, in a child process on a
//! free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::server::{free_port, ServerProcess};

/// How long a broker has to start accepting connections.
const START_PATIENCE: Duration = Duration::from_secs(30);

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
    process: Option<ServerProcess>,
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
            process: None,
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
        let mut command = Command::new(program());
        command
            .arg("broker")
            .args(["--storage-engine", &storage])
            .args(["--listener-url", &format!("tcp://127.0.0.1:{}", self.port)])
            .args([
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", self.advertised_port),
            ])
            .current_dir(self.dir.path());
        if authentication {
            command.arg("--authentication");
        }
        self.process = Some(ServerProcess::spawn(
            command,
            self.port,
            &self.dir.path().join("tansu.log"),
            START_PATIENCE,
        ));
    }

    /// What the broker printed (since its last start).
    pub fn log(&self) -> String {
        self.process
            .as_ref()
            .map(ServerProcess::log)
            .unwrap_or_default()
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
        self.process = None;
    }
}
