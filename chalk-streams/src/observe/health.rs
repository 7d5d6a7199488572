//! `GET /health/live`, `GET /health/ready` and `GET /health`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::ObservedStreams;

/// 200 while the process serves requests.
pub(super) async fn live() -> Json<Value> {
    Json(json!({ "live": true }))
}

/// 200 once every stream owns at least one partition and reads all of them; otherwise 503,
/// naming the streams that stopped reading a partition until a restart (`stalled`) or that own
/// none (`unassigned`), or saying they are still starting. Either way the body also names the
/// streams waiting for their store or dead-letter topic (`waiting`), which stay ready.
pub(super) async fn ready(State(streams): State<ObservedStreams>) -> (StatusCode, Json<Value>) {
    if !streams.is_started() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "starting": true })),
        );
    }
    let stalled = streams.stalled();
    if !stalled.is_empty() {
        let mut body = json!({ "ready": false, "stalled": stalled });
        with_waiting(&mut body, &streams);
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
    let unassigned = streams.unassigned();
    let (status, mut body) = if unassigned.is_empty() {
        (StatusCode::OK, json!({ "ready": true }))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "ready": false, "unassigned": unassigned }),
        )
    };
    with_waiting(&mut body, &streams);
    (status, Json(body))
}

/// Adds the streams waiting for their store or dead-letter topic, if any, to a body.
fn with_waiting(body: &mut Value, streams: &ObservedStreams) {
    let waiting = streams.waiting();
    if !waiting.is_empty() {
        body["waiting"] = json!(waiting);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::runtime::StreamStats;

    #[tokio::test]
    async fn a_stream_waiting_for_its_store_stays_ready_and_is_named() {
        let waits = Arc::new(StreamStats::default());
        let reads = Arc::new(StreamStats::default());
        let streams =
            ObservedStreams::new([("waits", Arc::clone(&waits)), ("reads", Arc::clone(&reads))]);
        waits.record_assignment(true);
        reads.record_assignment(true);
        waits.record_waiting(true);
        let (status, Json(body)) = ready(State(streams.clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({ "ready": true, "waiting": ["waits"] }));

        waits.record_waiting(false);
        let (status, Json(body)) = ready(State(streams)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({ "ready": true }), "no longer waiting");
    }
}
