//! Pieces of the `/_control` JSON API shared by both simulators: the fault plan.

use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::Faults;

/// `POST /_control/faults` body; every field optional, applied in this order: `clear`,
/// `fail_next` (+ `status`, default 500, + `retry_after_secs` to send `Retry-After`), `timeout_next`, `drop_next`, `slow_ms`, `down`,
/// `down_for_ms` (down now, back up after that many milliseconds).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct FaultRequest {
    pub clear: bool,
    pub fail_next: Option<u32>,
    pub status: Option<u16>,
    pub retry_after_secs: Option<u64>,
    pub timeout_next: Option<u32>,
    pub drop_next: Option<u32>,
    pub slow_ms: Option<u64>,
    pub down: Option<bool>,
    pub down_for_ms: Option<u64>,
}

pub(crate) fn apply(faults: &Faults, req: FaultRequest) {
    if req.clear {
        faults.clear();
    }
    if let Some(n) = req.fail_next {
        match req.retry_after_secs {
            Some(secs) => faults.fail_next_retry_after(n, req.status.unwrap_or(503), secs),
            None => faults.fail_next(n, req.status.unwrap_or(500)),
        }
    }
    if let Some(n) = req.timeout_next {
        faults.timeout_next(n);
    }
    if let Some(n) = req.drop_next {
        faults.drop_next(n);
    }
    if let Some(ms) = req.slow_ms {
        faults.slow(Duration::from_millis(ms));
    }
    if let Some(down) = req.down {
        faults.set_down(down);
    }
    if let Some(ms) = req.down_for_ms {
        faults.set_down(true);
        let faults = faults.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            faults.set_down(false);
        });
    }
}

fn summary(faults: &Faults) -> Value {
    json!({"pending_faults": faults.pending(), "down": faults.is_down()})
}

async fn post_faults(State(faults): State<Faults>, Json(req): Json<FaultRequest>) -> Json<Value> {
    apply(&faults, req);
    Json(summary(&faults))
}

async fn get_faults(State(faults): State<Faults>) -> Json<Value> {
    Json(summary(&faults))
}

/// `GET|POST /faults`, to be nested under `/_control`.
pub(crate) fn faults_router(faults: Faults) -> Router {
    Router::new()
        .route("/faults", post(post_faults).get(get_faults))
        .with_state(faults)
}
