//! A server of a test's own (a broker, a TLS terminator, Redis, an S3 stand-in) in a child
//! process on a loopback port, logging to a file; killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A running server process.
pub struct ServerProcess {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    /// Spawns `command` with its output in `log`, and returns once `port` accepts connections.
    /// Panics, with the log, if the server exits first or is not listening within `patience`;
    /// if it cannot be run at all, says that scripts/setup.sh installs it.
    pub fn spawn(mut command: Command, port: u16, log: &Path, patience: Duration) -> Self {
        let name = command.get_program().to_string_lossy().into_owned();
        let file = std::fs::File::create(log).expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run `{name}` ({error}): run scripts/setup.sh, which installs it")
            });
        let mut server = Self {
            name,
            child,
            log: log.to_owned(),
        };
        let deadline = Instant::now() + patience;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "{} exited with {status} at start:\n{}",
                    server.name,
                    server.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on port {port} within {patience:?}:\n{}",
                server.name,
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// What the server printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    /// SIGKILL, then reap: the server vanishes as a crashed machine would.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on, until the result is dropped: keep it for the test.
pub fn closed_port() -> ClosedPort {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    socket.bind(&loopback.into()).expect("a free port");
    let port = socket
        .local_addr()
        .ok()
        .and_then(|addr| addr.as_socket())
        .expect("bound")
        .port();
    ClosedPort {
        _socket: socket,
        port,
    }
}

/// A loopback port that refuses connections for as long as this lives: bound, but not
/// listening, so no other test's server (they run in parallel) can take it meanwhile. A port
/// found free and let go could be taken, and a command meant to find no broker would find one.
pub struct ClosedPort {
    _socket: socket2::Socket,
    port: u16,
}

impl std::fmt::Display for ClosedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.port)
    }
}
