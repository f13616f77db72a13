//! The appliance's `/_control` JSON API: the in-process [`Appliance`] methods over HTTP, for
//! the demo and browser tests running in another process.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Appliance, SessionSpec, XmlNamespace};

pub(crate) fn router(appliance: Appliance) -> Router {
    let faults = crate::control::faults_router(appliance.faults().clone());
    Router::new()
        .route("/state", get(state))
        .route("/sessions", get(sessions).post(create_session))
        .route("/sessions/{lsid}/end", post(end_session))
        .route("/sessions/{lsid}/lag", post(lag))
        .route("/sessions/{lsid}/events", post(queue_event))
        .route("/events", get(events))
        .route("/events_url", put(events_url))
        .route("/token_lifetime", put(token_lifetime))
        .route("/namespace", put(namespace))
        .route("/calls", get(calls))
        .with_state(appliance)
        .merge(faults)
}

async fn state(State(a): State<Appliance>) -> Json<Value> {
    Json(json!({
        "appliance_url": a.base_url(),
        "appliance_host": a.host(),
        "client_id": a.client_id(),
        "client_secret": a.client_secret(),
        "legacy_username": a.legacy_username(),
        "legacy_password": a.legacy_password(),
        "appliance_id": a.appliance_id(),
        "events_url": a.inner.outbound.url(),
        "live_tokens": a.live_tokens(),
        "token_requests": a.token_requests(),
        "pending_events": a.pending_events(),
        "delivered_events": a.delivered_events().len(),
    }))
}

async fn sessions(State(a): State<Appliance>) -> Json<Value> {
    let state = a.state();
    Json(json!({ "sessions": state.sessions }))
}

/// A session spec plus optional generated bulk (`"load": {"system_info_retrievals": 3,
/// "chat_lines": 1500}`), so a control client need not send thousands of events.
#[derive(Deserialize)]
struct NewSession {
    #[serde(flatten)]
    spec: SessionSpec,
    #[serde(default)]
    load: super::Load,
}

async fn create_session(State(a): State<Appliance>, Json(req): Json<NewSession>) -> Json<Value> {
    Json(json!({ "lsid": a.create_session(req.spec.with_load(req.load)) }))
}

fn unknown_session() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "unknown lsid"})),
    )
        .into_response()
}

async fn end_session(State(a): State<Appliance>, Path(lsid): Path<String>) -> Response {
    if !a.session_ids().contains(&lsid) {
        return unknown_session();
    }
    a.end_session(&lsid);
    Json(json!({"ended": lsid, "pending_events": a.pending_events()})).into_response()
}

#[derive(Deserialize)]
struct LagRequest {
    fetches: u32,
}

async fn lag(
    State(a): State<Appliance>,
    Path(lsid): Path<String>,
    Json(req): Json<LagRequest>,
) -> Response {
    if !a.session_ids().contains(&lsid) {
        return unknown_session();
    }
    a.report_lag(&lsid, req.fetches);
    Json(json!({"lsid": lsid, "fetches_without_end_time": req.fetches})).into_response()
}

#[derive(Deserialize)]
struct EventRequest {
    event: String,
    #[serde(default)]
    fields: Vec<(String, String)>,
}

async fn queue_event(
    State(a): State<Appliance>,
    Path(lsid): Path<String>,
    Json(req): Json<EventRequest>,
) -> Response {
    let extra: Vec<(&str, &str)> = req
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if !a.queue_event(&lsid, &req.event, &extra) {
        return unknown_session();
    }
    Json(json!({"queued": req.event, "pending_events": a.pending_events()})).into_response()
}

async fn events(State(a): State<Appliance>) -> Json<Value> {
    Json(json!({
        "delivered": a.delivered_events(),
        "pending": a.inner.outbound.pending_fields(),
    }))
}

#[derive(Deserialize)]
struct UrlRequest {
    url: Option<String>,
}

async fn events_url(State(a): State<Appliance>, Json(req): Json<UrlRequest>) -> Json<Value> {
    a.set_events_url(req.url.clone());
    Json(json!({"events_url": req.url}))
}

#[derive(Deserialize)]
struct LifetimeRequest {
    seconds: u64,
}

async fn token_lifetime(
    State(a): State<Appliance>,
    Json(req): Json<LifetimeRequest>,
) -> Json<Value> {
    a.set_token_lifetime(Duration::from_secs(req.seconds));
    Json(json!({"token_lifetime": req.seconds}))
}

#[derive(Deserialize)]
struct NamespaceRequest {
    namespace: XmlNamespace,
}

async fn namespace(State(a): State<Appliance>, Json(req): Json<NamespaceRequest>) -> Json<Value> {
    a.set_xml_namespace(req.namespace);
    Json(json!({"namespace": req.namespace}))
}

async fn calls(State(a): State<Appliance>) -> Json<Value> {
    Json(json!({
        "api_calls": a.api_calls(),
        "token_calls": a.token_calls(),
        "client_scripts": a.client_scripts(),
        "start_sessions": a.start_sessions(),
        "session_keys": a.session_keys(),
    }))
}
