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
/// none (`unassigned`), or saying they are still starting.
pub(super) async fn ready(State(streams): State<ObservedStreams>) -> (StatusCode, Json<Value>) {
    if !streams.is_started() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "starting": true })),
        );
    }
    let stalled = streams.stalled();
    if !stalled.is_empty() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "stalled": stalled })),
        );
    }
    let unassigned = streams.unassigned();
    if unassigned.is_empty() {
        (StatusCode::OK, Json(json!({ "ready": true })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "unassigned": unassigned })),
        )
    }
}
