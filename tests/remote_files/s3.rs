//! `s3://` keystores and CA files from an S3-compatible server of the test's own (`moto`): a TLS broker reached with them, and start-up stopped with the reason when an object is missing or the server unreachable.

use std::io::{Read as _, Write as _};
use std::process::Command;
use std::time::Duration;

use chalk_streams::{Error, FeatureValue};
use suite::example_check;
use suite::server::{closed_port, free_port, ServerProcess};

use super::*;

/// The S3 secret key the tests use: it must never be printed.
const SECRET_KEY: &str = "moto-secret-key-42";

/// How long moto has to start accepting connections (it imports a lot).
const MOTO_PATIENCE: Duration = Duration::from_secs(60);

/// An S3-compatible server (`moto` in server mode) on a free loopback port; killed when dropped.
struct Moto {
    _process: ServerProcess,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// Starts the server; returns once it accepts connections.
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut command = Command::new("python3");
        command.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ]);
        let process =
            ServerProcess::spawn(command, port, &dir.path().join("moto.log"), MOTO_PATIENCE);
        Self {
            _process: process,
            port,
            _dir: dir,
        }
    }

    /// The variables that point the S3 client at this server.
    fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "chalk-test".into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Sends `PUT path` with `body` (moto takes unsigned requests); panics unless it answers 200.
    fn put(&self, path: &str, body: &[u8]) {
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("moto accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout set");
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("request sent");
        stream.write_all(body).expect("body sent");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "PUT {path}: {response}"
        );
    }

    /// Creates `bucket` and uploads each `(key, file)` into it.
    fn upload(&self, bucket: &str, files: &[(&str, PathBuf)]) {
        self.put(&format!("/{bucket}"), b"");
        for (key, file) in files {
            let body = std::fs::read(file).expect("file to upload");
            self.put(&format!("/{bucket}/{key}"), &body);
        }
    }
}

/// The keys hold a `~`, which the object store client must not escape twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keystore_and_ca_from_s3_reach_a_tls_broker_and_are_removed_at_shutdown() {
    let moto = Moto::start();
    let broker = TlsBroker::start(ClientCertificates::Required, &[]);
    let ca = broker.pki.ca_file();
    let keystore = broker.pki.client_keystore();
    moto.upload(
        "kafka-certs",
        &[
            ("tls~prod/ca.pem", ca.clone()),
            ("tls~prod/client.p12", keystore.clone()),
        ],
    );

    let client = broker.client(&[
        ("security.protocol", "ssl"),
        ("ssl.ca.location", &text(&ca)),
        ("ssl.keystore.location", &text(&keystore)),
        ("ssl.keystore.password", KEYSTORE_PASSWORD),
    ]);
    client
        .create_topic_with_admin(TOPIC, 1)
        .await
        .expect("topic created");
    for (id, kwh) in [("m1", 12), ("m2", 30)] {
        client
            .produce(&Record::json(TOPIC, &json!({"id": id, "kwh": kwh})).key(id))
            .await
            .expect("produced");
    }

    let mut env = moto.aws_env();
    env.extend([
        ("vault_KAFKA_SECURITY_PROTOCOL", "SSL".to_owned()),
        (
            "vault_KAFKA_SSL_CA_FILE",
            "s3://kafka-certs/tls~prod/ca.pem".into(),
        ),
        (
            "vault_KAFKA_SSL_KEYSTORE_LOCATION",
            "s3://kafka-certs/tls~prod/client.p12".into(),
        ),
        (
            "vault_KAFKA_SSL_KEYSTORE_PASSWORD",
            KEYSTORE_PASSWORD.into(),
        ),
    ]);
    let running = runtime_for(&client, &[STREAM])
        .env(env_of(&env))
        .start()
        .await
        .expect("the stream starts with its files from S3");

    // While the stream runs: two private copies, byte for byte the uploaded files.
    let copies: Vec<PathBuf> = running.remote_files().map(PathBuf::from).collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    let mut contents: Vec<Vec<u8>> = Vec::new();
    for copy in &copies {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(copy)
            .expect("copy exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{} is private", copy.display());
        contents.push(std::fs::read(copy).expect("copy readable"));
    }
    let mut expected = vec![
        std::fs::read(&ca).expect("ca"),
        std::fs::read(&keystore).expect("keystore"),
    ];
    contents.sort();
    expected.sort();
    assert_eq!(contents, expected, "the copies are the uploaded files");

    let (snapshot, done) = running
        .stats(STREAM)
        .expect("the stream runs")
        .wait_for(PATIENCE, |s| s.processed == 2)
        .await;
    assert!(done, "readings processed through TLS: {snapshot:?}");
    let store = running.store();
    let m2 = store
        .entity("meter", "m2")
        .await
        .expect("store read")
        .expect("m2 stored");
    assert_eq!(
        m2.features.get("kwh").map(|f| f.value.clone()),
        Some(FeatureValue::Int(30))
    );
    running.shutdown().await.expect("clean shutdown");
    for copy in &copies {
        assert!(!copy.exists(), "{} removed at shutdown", copy.display());
    }

    // The `check` command fetches them too, with the S3 settings of the process environment.
    client
        .create_topic_with_admin("user_favorite_color_updates", 1)
        .await
        .expect("topic created");
    let mut vars = moto.aws_env();
    vars.extend([
        ("KAFKA_BOOTSTRAP_SERVER", broker.bootstrap_servers()),
        ("KAFKA_SECURITY_PROTOCOL", "SSL".to_owned()),
        (
            "KAFKA_SSL_CA_FILE",
            "s3://kafka-certs/tls~prod/ca.pem".into(),
        ),
        (
            "KAFKA_SSL_KEYSTORE_LOCATION",
            "s3://kafka-certs/tls~prod/client.p12".into(),
        ),
        ("KAFKA_SSL_KEYSTORE_PASSWORD", KEYSTORE_PASSWORD.into()),
    ]);
    let (out, _) = example_check(&vars, PATIENCE);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim_end(),
        format!(
            "ok: stream `favorite_color::favorite_color`: user_favorite_color_updates (1 partition) on {}",
            broker.bootstrap_servers()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_object_stops_start_up_naming_stream_option_and_uri() {
    let moto = Moto::start();
    moto.upload("kafka-certs", &[]);
    let mut env = moto.aws_env();
    env.extend([
        ("vault_KAFKA_SECURITY_PROTOCOL", "SSL".to_owned()),
        (
            "vault_KAFKA_SSL_CA_FILE",
            "s3://kafka-certs/missing/ca.pem".into(),
        ),
    ]);
    let error = match runtime_with(env).start().await {
        Ok(_) => panic!("start-up must fail"),
        Err(error) => error,
    };
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    let message = error.to_string();
    eprintln!("start-up failed: {message}");
    assert_eq!(
        message,
        "configuration problem: stream `remote_files::meter` (source `vault`): option `ssl_ca_file`: \
         cannot fetch `s3://kafka-certs/missing/ca.pem`: `s3://kafka-certs/missing/ca.pem` does not exist; \
         check the bucket and key, and that the credentials may read it (AWS_ACCESS_KEY_ID, \
         AWS_SECRET_ACCESS_KEY, AWS_REGION, and AWS_ENDPOINT for an S3-compatible store)"
    );
    assert!(!message.contains(SECRET_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_stops_start_up_saying_it_cannot_be_reached() {
    let closed = closed_port();
    let env = vec![
        ("AWS_ACCESS_KEY_ID", "chalk-test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT", format!("http://127.0.0.1:{closed}")),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("vault_KAFKA_SECURITY_PROTOCOL", "SSL".to_owned()),
        ("vault_KAFKA_SSL_CA_FILE", "s3://kafka-certs/ca.pem".into()),
    ];
    let error = match runtime_with(env).start().await {
        Ok(_) => panic!("start-up must fail"),
        Err(error) => error.to_string(),
    };
    eprintln!("start-up failed: {error}");
    assert!(
        error.starts_with(
            "configuration problem: stream `remote_files::meter` (source `vault`): option \
             `ssl_ca_file`: cannot fetch `s3://kafka-certs/ca.pem`: fetching \
             `s3://kafka-certs/ca.pem` failed: "
        ),
        "{error}"
    );
    assert!(
        error.ends_with(
            "check that the S3 endpoint is reachable and the credentials are right \
             (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, and AWS_ENDPOINT for an \
             S3-compatible store)"
        ),
        "{error}"
    );
    assert!(!error.contains(SECRET_KEY), "{error}");
    // Refused, not waited out: the request could not be sent at all.
    assert!(error.contains("error sending request"), "{error}");
}
