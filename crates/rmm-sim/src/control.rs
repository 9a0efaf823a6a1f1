//! The control endpoint `/__sim/*`: stats, faults, modes, clock, sessions and state inspection for tests.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::{Shared, lock};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__sim/stats", get(stats))
        .route("/__sim/faults", get(read_faults).post(write_faults))
        .route("/__sim/modes", get(read_modes).post(write_modes))
        .route("/__sim/clock", get(read_clock).post(write_clock))
        .route("/__sim/sessions/end", post(end_sessions))
        .route("/__sim/devices/{device_id}", get(device))
        .route("/__sim/reservations", get(reservations))
        .route("/__sim/files", get(files))
        .route(
            "/__sim/rollout-faults",
            get(read_rollout_faults).post(write_rollout_faults),
        )
        .route("/__sim/reservation-log", get(reservation_log))
        .with_state(shared)
}

fn bad(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.counters.snapshot()).into_response()
}

async fn read_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(lock(&shared.faults).clone()).into_response()
}

async fn write_faults(State(shared): State<Arc<Shared>>, Json(patch): Json<Value>) -> Response {
    let mut faults = lock(&shared.faults);
    match faults.apply_patch(&patch) {
        Ok(next) => {
            *faults = next.clone();
            tracing::info!(?next, "faults changed");
            Json(next).into_response()
        }
        Err(message) => bad(message),
    }
}

async fn read_modes(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.modes()).into_response()
}

async fn write_modes(State(shared): State<Arc<Shared>>, Json(patch): Json<Value>) -> Response {
    let mut modes = lock(&shared.modes);
    match modes.apply_patch(&patch) {
        Ok(next) => {
            *modes = next;
            tracing::info!(modes = ?next.names_on(), "modes changed");
            Json(next).into_response()
        }
        Err(message) => bad(message),
    }
}

async fn read_clock(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"now": shared.now_ms()})).into_response()
}

async fn write_clock(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let advance = body.get("advanceSecs");
    let speed = body.get("speed");
    if advance.is_none() && speed.is_none() {
        return bad("advanceSecs or speed is required".into());
    }
    let advance = match advance.map(Value::as_i64) {
        Some(None) => return bad("advanceSecs: must be a whole number of seconds".into()),
        Some(Some(secs)) if secs < 0 => return bad("advanceSecs: must not be negative".into()),
        other => other.flatten(),
    };
    let speed = match speed.map(Value::as_f64) {
        Some(Some(s)) if s.is_finite() && s >= 0.0 => Some(s),
        Some(_) => return bad("speed: must be a number >= 0".into()),
        None => None,
    };
    let mut clock = lock(&shared.clock);
    if let Some(secs) = advance {
        clock.advance(secs);
    }
    if let Some(speed) = speed {
        clock.set_speed(speed);
    }
    Json(json!({"now": clock.now_ms()})).into_response()
}

async fn end_sessions(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.auth).end_all_sessions();
    Json(json!({"ended": true})).into_response()
}

async fn device(State(shared): State<Arc<Shared>>, Path(device_id): Path<String>) -> Response {
    let now = shared.now_ms();
    match lock(&shared.world).device_json(&device_id, now, &shared.modes()) {
        Some(device) => Json(device).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("deviceId: no device {device_id}")})),
        )
            .into_response(),
    }
}

async fn reservations(State(shared): State<Arc<Shared>>) -> Response {
    let now = shared.now_ms();
    Json(lock(&shared.world).reservations_json(now, &shared.modes())).into_response()
}

async fn files(State(shared): State<Arc<Shared>>) -> Response {
    Json(lock(&shared.world).firmware_files_json()).into_response()
}

async fn read_rollout_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(lock(&shared.world).rollout_faults.clone()).into_response()
}

/// Replaces the rollout faults with the body (keys left out take their defaults).
async fn write_rollout_faults(
    State(shared): State<Arc<Shared>>,
    Json(body): Json<Value>,
) -> Response {
    let faults: crate::rollout_faults::RolloutFaults = match serde_json::from_value(body) {
        Ok(faults) => faults,
        Err(e) => return bad(format!("body: {e}")),
    };
    if let Err(message) = faults.check() {
        return bad(message);
    }
    tracing::info!(?faults, "rollout faults changed");
    lock(&shared.world).rollout_faults = faults.clone();
    Json(faults).into_response()
}

async fn reservation_log(State(shared): State<Arc<Shared>>) -> Response {
    Json(lock(&shared.world).reservation_log.clone()).into_response()
}
