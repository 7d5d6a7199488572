//! Keystores and CA files given as `s3://` URIs, fetched at start-up from an S3-compatible server
//! of the test's own (`moto` in server mode, on loopback), then used to reach a broker through
//! TLS (`tansu` behind `stunnel4`). And `gs://` URIs through the Google Cloud Storage client: its
//! credentials settings, and a download from a minimal responder of the test's own (no Google
//! Cloud Storage emulator that this client accepts is packaged).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chalk_streams::prelude::*;
use chalk_streams::testing::Record;
use chalk_streams::{Error, FeatureValue, Runtime};
use serde::Deserialize;
use serde_json::json;
use suite::server::{free_port, ServerProcess};
use suite::tls::{text, ClientCertificates, TlsBroker, KEYSTORE_PASSWORD};
use suite::{env_of, example_check, runtime_for, PATIENCE};

#[derive(Features, Default)]
struct Meter {
    #[primary]
    id: String,
    kwh: Option<i64>,
}

#[derive(Deserialize)]
struct MeterReading {
    id: String,
    kwh: i64,
}

/// Every option of this named source comes from the `vault_KAFKA_*` variables of the test.
static VAULT: KafkaSource = KafkaSource::new().name("vault").topic(TOPIC);
const TOPIC: &str = "meter_readings";
const STREAM: &str = "remote_files::meter";

#[stream(source = VAULT)]
fn meter(reading: MeterReading) -> Meter {
    Meter {
        id: reading.id,
        kwh: Some(reading.kwh),
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keystore_and_ca_from_s3_reach_a_tls_broker_and_are_removed_at_shutdown() {
    let moto = Moto::start();
    let broker = TlsBroker::start(ClientCertificates::Required, &[]);
    let ca = broker.pki.ca_file();
    let keystore = broker.pki.client_keystore();
    moto.upload(
        "kafka-certs",
        &[
            ("tls/ca.pem", ca.clone()),
            ("tls/client.p12", keystore.clone()),
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
            "s3://kafka-certs/tls/ca.pem".into(),
        ),
        (
            "vault_KAFKA_SSL_KEYSTORE_LOCATION",
            "s3://kafka-certs/tls/client.p12".into(),
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
        ("KAFKA_SSL_CA_FILE", "s3://kafka-certs/tls/ca.pem".into()),
        (
            "KAFKA_SSL_KEYSTORE_LOCATION",
            "s3://kafka-certs/tls/client.p12".into(),
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

/// A runtime for the stream with `env`, on a broker nobody needs to reach: start-up stops
/// before any client is created.
fn runtime_with(env: Vec<(&'static str, String)>) -> Runtime {
    Runtime::from_registry()
        .expect("streams are registered")
        .only(&[STREAM])
        .expect("the stream exists")
        .bootstrap_servers("127.0.0.1:9")
        .env(env_of(&env))
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
    let started = Instant::now();
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
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "fails fast: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_stops_start_up_within_seconds() {
    let closed = free_port();
    let env = vec![
        ("AWS_ACCESS_KEY_ID", "chalk-test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT", format!("http://127.0.0.1:{closed}")),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("vault_KAFKA_SECURITY_PROTOCOL", "SSL".to_owned()),
        ("vault_KAFKA_SSL_CA_FILE", "s3://kafka-certs/ca.pem".into()),
    ];
    let started = Instant::now();
    let error = match runtime_with(env).start().await {
        Ok(_) => panic!("start-up must fail"),
        Err(error) => error.to_string(),
    };
    eprintln!("start-up failed in {:?}: {error}", started.elapsed());
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
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "fails within seconds: {:?}",
        started.elapsed()
    );
}

/// No Google Cloud Storage emulator runs here, so this only shows that a `gs://` URI goes to the
/// Google Cloud Storage client, with its credentials settings (a key file that does not exist:
/// nothing is sent anywhere).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gs_uri_goes_to_the_google_cloud_storage_client() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing_key = dir.path().join("no-such-key.json");
    let env = vec![
        ("vault_KAFKA_SECURITY_PROTOCOL", "SSL".to_owned()),
        (
            "vault_KAFKA_SSL_KEYSTORE_LOCATION",
            "gs://kafka-certs/client.p12".into(),
        ),
        (
            "vault_KAFKA_SSL_KEYSTORE_PASSWORD",
            KEYSTORE_PASSWORD.into(),
        ),
        ("GOOGLE_SERVICE_ACCOUNT", text(&missing_key)),
    ];
    let error = match runtime_with(env).start().await {
        Ok(_) => panic!("start-up must fail"),
        Err(error) => error.to_string(),
    };
    eprintln!("start-up failed: {error}");
    assert!(
        error.starts_with(
            "configuration problem: stream `remote_files::meter` (source `vault`): option \
             `ssl_keystore_location`: cannot fetch `gs://kafka-certs/client.p12`: cannot set up \
             the Google Cloud Storage client: "
        ),
        "{error}"
    );
    assert!(error.contains("no-such-key.json"), "{error}");
    assert!(error.contains("credential"), "{error}");
    assert!(
        error.ends_with(
            "check the Google Cloud Storage settings: GOOGLE_SERVICE_ACCOUNT (a key file) or GOOGLE_APPLICATION_CREDENTIALS"
        ),
        "{error}"
    );
    assert!(!error.contains(KEYSTORE_PASSWORD), "{error}");
}

/// `text` with each `%XX` replaced by the byte it encodes.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The smallest Google Cloud Storage endpoint the client downloads from: answers `GET
/// /{bucket}/{key}` (the XML API) for one object, with the headers the client requires, and 404
/// otherwise. Records each request line. Stops when dropped.
struct GcsResponder {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GcsResponder {
    fn serve(path: &str, body: Vec<u8>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopping, path) = (Arc::clone(&requests), Arc::clone(&stop), path.to_owned());
        let thread = std::thread::spawn(move || {
            for connection in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut connection) = connection else {
                    continue;
                };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && connection.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                // The client percent-encodes bucket and key, as the real service accepts.
                let line = percent_decoded(head.lines().next().unwrap_or_default());
                seen.lock().expect("requests").push(line.clone());
                let response = if line.starts_with(&format!("GET {path} ")) {
                    let mut response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"1\"\r\n\
                         Last-Modified: Tue, 15 Nov 1994 08:12:31 GMT\r\n\
                         Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    response.extend_from_slice(&body);
                    response
                } else {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                };
                let _ = connection.write_all(&response);
            }
        });
        Self {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The variables that point the Google Cloud Storage client here, unauthenticated.
    fn google_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GOOGLE_BASE_URL", format!("http://127.0.0.1:{}", self.port)),
            ("GOOGLE_SKIP_SIGNATURE", "true".into()),
            ("GOOGLE_ALLOW_HTTP", "true".into()),
        ]
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

impl Drop for GcsResponder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_file_from_gs_is_downloaded_through_the_google_cloud_storage_client() {
    let broker = TlsBroker::start(ClientCertificates::NotRequested, &[]);
    let ca = broker.pki.ca_file();
    let gcs = GcsResponder::serve("/kafka-certs/tls/ca.pem", std::fs::read(&ca).expect("ca"));
    let client = broker.client(&[
        ("security.protocol", "ssl"),
        ("ssl.ca.location", &text(&ca)),
    ]);
    client
        .create_topic_with_admin(TOPIC, 1)
        .await
        .expect("topic created");
    client
        .produce(&Record::json(TOPIC, &json!({"id": "g1", "kwh": 7})).key("g1"))
        .await
        .expect("produced");

    let mut env = gcs.google_env();
    env.extend([
        ("vault_KAFKA_SECURITY_PROTOCOL", "SSL".to_owned()),
        (
            "vault_KAFKA_SSL_CA_FILE",
            "gs://kafka-certs/tls/ca.pem".into(),
        ),
    ]);
    let running = runtime_for(&client, &[STREAM])
        .env(env_of(&env))
        .start()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the stream starts with its CA from Google Cloud Storage: {e}; requests: {:?}",
                gcs.requests()
            )
        });
    let copies: Vec<PathBuf> = running.remote_files().map(PathBuf::from).collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(
        std::fs::read(&copies[0]).expect("copy"),
        std::fs::read(&ca).expect("ca")
    );
    let (snapshot, done) = running
        .stats(STREAM)
        .expect("the stream runs")
        .wait_for(PATIENCE, |s| s.processed == 1)
        .await;
    assert!(done, "processed through TLS: {snapshot:?}");
    running.shutdown().await.expect("clean shutdown");
    assert!(!copies[0].exists(), "removed at shutdown");
    assert_eq!(
        gcs.requests(),
        ["GET /kafka-certs/tls/ca.pem HTTP/1.1"],
        "one download, by the XML API path of the bucket and key"
    );
}
