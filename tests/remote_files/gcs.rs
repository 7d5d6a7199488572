//! `gs://` URIs through the Google Cloud Storage client: its credentials settings, and a download from a minimal responder of the test's own.

use std::io::{Read as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

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
