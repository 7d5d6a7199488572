//! Keystores and CA files given as `s3://` URIs, fetched at start-up from an S3-compatible server
//! of the test's own (`moto` in server mode, on loopback), then used to reach a broker through
//! TLS (`tansu` behind `stunnel4`). And `gs://` URIs through the Google Cloud Storage client: its
//! credentials settings, and a download from a minimal responder of the test's own (no Google
//! Cloud Storage emulator that this client accepts is packaged).

use std::path::PathBuf;

use chalk_streams::prelude::*;
use chalk_streams::testing::Record;
use chalk_streams::Runtime;
use serde::Deserialize;
use serde_json::json;
use suite::tls::{text, ClientCertificates, TlsBroker, KEYSTORE_PASSWORD};
use suite::{env_of, runtime_for, PATIENCE};

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

mod gcs;
mod s3;
