//! Zendesk's `/_control` JSON API: tickets, comments, requests, rate limit, faults, and the
//! Zendesk-only knobs: refused uploads, comment page size, `next_page` host, late updates.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Zendesk;

pub(crate) fn router(zendesk: Zendesk) -> Router {
    let faults = crate::control::faults_router(zendesk.faults().clone());
    Router::new()
        .route("/state", get(state))
        .route("/tickets", get(tickets).post(create_ticket))
        .route("/tickets/{id}", get(ticket))
        .route("/requests", get(requests))
        .route("/rate_limit", put(rate_limit))
        .route("/uploads", put(uploads))
        .route("/comment_pages", put(comment_pages))
        .route("/late_update", post(late_update))
        .with_state(zendesk)
        .merge(faults)
}

async fn state(State(z): State<Zendesk>) -> Json<Value> {
    Json(json!({
        "zendesk_url": z.base_url(),
        "zendesk_email": z.email(),
        "zendesk_token": z.api_token(),
        "agent_id": z.agent_id(),
        "end_user_email": z.end_user_email(),
        "end_user_token": z.end_user_token(),
        "tickets": z.tickets().len(),
        "requests": z.requests().len(),
    }))
}

async fn tickets(State(z): State<Zendesk>) -> Json<Value> {
    Json(json!({"tickets": z.tickets()}))
}

#[derive(Deserialize)]
struct NewTicket {
    subject: String,
}

async fn create_ticket(State(z): State<Zendesk>, Json(req): Json<NewTicket>) -> Json<Value> {
    Json(json!({"id": z.create_ticket(&req.subject)}))
}

async fn ticket(State(z): State<Zendesk>, Path(id): Path<u64>) -> Response {
    match z.ticket(id) {
        Some(ticket) => Json(json!({"ticket": ticket})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown ticket"})),
        )
            .into_response(),
    }
}

async fn requests(State(z): State<Zendesk>) -> Json<Value> {
    Json(json!({"requests": z.requests()}))
}

#[derive(Deserialize)]
struct RateLimit {
    per_minute: u32,
}

async fn rate_limit(State(z): State<Zendesk>, Json(req): Json<RateLimit>) -> Json<Value> {
    z.set_rate_limit(req.per_minute);
    Json(json!({"per_minute": req.per_minute}))
}

#[derive(Deserialize)]
struct UploadsRequest {
    /// Refusal reason, or null to accept uploads.
    refuse: Option<String>,
}

async fn uploads(State(z): State<Zendesk>, Json(req): Json<UploadsRequest>) -> Json<Value> {
    z.refuse_uploads(req.refuse.as_deref());
    Json(json!({"refuse": req.refuse}))
}

#[derive(Deserialize)]
struct CommentPagesRequest {
    per_page: usize,
    next_page_base: Option<String>,
}

async fn comment_pages(
    State(z): State<Zendesk>,
    Json(req): Json<CommentPagesRequest>,
) -> Json<Value> {
    z.set_comments_per_page(req.per_page);
    z.set_next_page_base(req.next_page_base.as_deref());
    Json(json!({"per_page": req.per_page, "next_page_base": req.next_page_base}))
}

#[derive(Deserialize)]
struct LateUpdateRequest {
    delay_ms: u64,
}

async fn late_update(State(z): State<Zendesk>, Json(req): Json<LateUpdateRequest>) -> Json<Value> {
    z.apply_next_update_late(std::time::Duration::from_millis(req.delay_ms));
    Json(json!({"late_update_after_ms": req.delay_ms}))
}
