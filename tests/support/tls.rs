//! TLS for a test's own broker: certificates made with the `openssl` command (a CA, a server
//! certificate for 127.0.0.1, a client certificate in a password-protected PKCS#12 keystore, and
//! an unrelated second CA), and `stunnel4` terminating TLS in front of a `tansu` broker, which
//! advertises the TLS port so that clients come back through it after metadata.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chalk_streams::testing::KafkaTestClient;

use crate::server::{free_port, ServerProcess};
use crate::tansu::{Storage, Tansu};

/// How long stunnel has to start accepting connections.
const START_PATIENCE: Duration = Duration::from_secs(30);

/// The password of the client's PKCS#12 keystore.
pub const KEYSTORE_PASSWORD: &str = "keystore-pass-7";

/// The `stunnel4` program (Debian's `stunnel4` package).
const STUNNEL: &str = "stunnel4";

/// Runs `openssl` with `args` in `dir`; panics with its output if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run `openssl` ({error}): run scripts/setup.sh, which installs it")
        });
    assert!(
        output.status.success(),
        "openssl {}: {}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("writing {name}: {e}"));
}

/// A test's certificates, in a temporary directory of their own.
pub struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// Makes the CA, the server certificate (127.0.0.1), the client keystore and the other CA.
    pub fn generate() -> Self {
        let pki = Self {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        let dir = pki.dir.path();
        // Configurations of their own, so the system's openssl.cnf does not matter.
        write(
            dir,
            "req.cnf",
            "[req]\ndistinguished_name = dn\n[dn]\n\
             [ca]\nbasicConstraints = critical, CA:TRUE\n\
             keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n",
        );
        write(
            dir,
            "server.ext",
            "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
        );
        write(
            dir,
            "client.ext",
            "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n\
             extendedKeyUsage = clientAuth\n",
        );
        for (ca, name) in [
            ("ca", "chalk-streams test CA"),
            ("other-ca", "an unrelated CA"),
        ] {
            openssl(
                dir,
                &[
                    "req",
                    "-x509",
                    "-config",
                    "req.cnf",
                    "-extensions",
                    "ca",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-keyout",
                    &format!("{ca}.key"),
                    "-out",
                    &format!("{ca}.pem"),
                    "-days",
                    "2",
                    "-subj",
                    &format!("/CN={name}"),
                ],
            );
        }
        for (leaf, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=chalk-client")] {
            openssl(
                dir,
                &[
                    "req",
                    "-new",
                    "-config",
                    "req.cnf",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-keyout",
                    &format!("{leaf}.key"),
                    "-out",
                    &format!("{leaf}.csr"),
                    "-subj",
                    subject,
                ],
            );
            openssl(
                dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{leaf}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-extfile",
                    &format!("{leaf}.ext"),
                    "-out",
                    &format!("{leaf}.pem"),
                ],
            );
        }
        openssl(
            dir,
            &[
                "pkcs12",
                "-export",
                "-in",
                "client.pem",
                "-inkey",
                "client.key",
                "-certfile",
                "ca.pem",
                "-name",
                "chalk-client",
                "-out",
                "client.p12",
                "-passout",
                &format!("pass:{KEYSTORE_PASSWORD}"),
            ],
        );
        pki
    }

    /// The directory holding every file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA that signed the server and client certificates (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.dir().join("ca.pem")
    }

    /// A CA that signed nothing here (PEM): verifying the broker with it fails.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir().join("other-ca.pem")
    }

    /// The client's certificate and key, with the CA, in a PKCS#12 keystore protected by
    /// [`KEYSTORE_PASSWORD`].
    pub fn client_keystore(&self) -> PathBuf {
        self.dir().join("client.p12")
    }
}

/// Whether the TLS terminator asks clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCertificates {
    /// Clients are not asked for one.
    NotRequested,
    /// Clients must present one signed by the test CA (`verify = 2`).
    Required,
}

/// A `stunnel4` in the foreground on a free loopback port, forwarding to a plain port; killed
/// when dropped.
pub struct Stunnel {
    process: ServerProcess,
    port: u16,
    /// Its configuration, pid file and log.
    _dir: tempfile::TempDir,
}

impl Stunnel {
    /// Terminates TLS with `pki`'s server certificate on a free port and forwards to
    /// `backend_port`; returns once the port accepts connections.
    pub fn start(pki: &Pki, backend_port: u16, clients: ClientCertificates) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut config = format!(
            "foreground = yes\nsyslog = no\ndebug = info\npid = {pid}\n\n[kafka]\n\
             accept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{backend_port}\n\
             cert = {cert}\nkey = {key}\n",
            pid = dir.path().join("stunnel.pid").display(),
            cert = pki.dir().join("server.pem").display(),
            key = pki.dir().join("server.key").display(),
        );
        if clients == ClientCertificates::Required {
            config.push_str(&format!(
                "verify = 2\nCAfile = {}\n",
                pki.ca_file().display()
            ));
        }
        let config_path = dir.path().join("stunnel.conf");
        std::fs::write(&config_path, config).expect("stunnel.conf written");
        let mut command = Command::new(STUNNEL);
        command.arg(&config_path);
        let process = ServerProcess::spawn(
            command,
            port,
            &dir.path().join("stunnel.log"),
            START_PATIENCE,
        );
        Self {
            process,
            port,
            _dir: dir,
        }
    }

    /// The TLS port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What stunnel logged.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// A SCRAM user of the broker: mechanism as `tansu user create` names it (`scram256` or
/// `scram512`), name and password.
pub type ScramUser<'a> = (&'a str, &'a str, &'a str);

/// A `tansu` broker reached only through TLS: its certificates, the terminator and the broker.
pub struct TlsBroker {
    /// The certificates.
    pub pki: Pki,
    /// The TLS terminator clients connect to.
    pub stunnel: Stunnel,
    /// The broker behind it, advertising the terminator's port.
    pub tansu: Tansu,
}

impl TlsBroker {
    /// A broker behind TLS; with `users`, it requires SASL authentication (the users are created
    /// first, while it runs without).
    pub fn start(clients: ClientCertificates, users: &[ScramUser<'_>]) -> Self {
        let pki = Pki::generate();
        let mut tansu = Tansu::start_with(Storage::Sqlite);
        for (mechanism, name, password) in users {
            tansu.create_user(mechanism, name, password);
        }
        let stunnel = Stunnel::start(&pki, tansu.port(), clients);
        tansu.advertise(stunnel.port());
        tansu.restart(!users.is_empty());
        Self {
            pki,
            stunnel,
            tansu,
        }
    }

    /// Where clients connect: the TLS port.
    pub fn bootstrap_servers(&self) -> String {
        format!("127.0.0.1:{}", self.stunnel.port())
    }

    /// A test client connected through TLS with `properties` (`security.protocol`, `ssl.*`,
    /// `sasl.*`).
    pub fn client(&self, properties: &[(&str, &str)]) -> KafkaTestClient {
        KafkaTestClient::connect(&self.bootstrap_servers(), properties)
            .expect("a TLS client for tansu")
    }

    /// What the broker and the terminator logged, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "tansu:\n{}\nstunnel:\n{}",
            self.tansu.log(),
            self.stunnel.log()
        )
    }
}

/// `path` as text, for properties and variables.
pub fn text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 temporary path").to_owned()
}
