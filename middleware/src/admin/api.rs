//! The admin as JSON under `/api/`, for scripts and tests (same data as the pages).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::view::{self, RetryOutcome};
use super::AdminState;
use crate::store::{Status, StoreError};

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn store_error(e: StoreError) -> Response {
    tracing::error!(error = %e, "admin api: store query failed");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the database could not be read; see the middleware log",
    )
}

/// `GET /api/status`: counts by status and the number of configurations.
pub async fn status(State(state): State<Arc<AdminState>>) -> Response {
    match view::status_counts(&state.shared).await {
        Ok(counts) => {
            let total: usize = counts.iter().map(|c| c.count).sum();
            let counts: serde_json::Map<String, serde_json::Value> = counts
                .into_iter()
                .map(|c| (c.status.to_string(), json!(c.count)))
                .collect();
            Json(json!({ "counts": counts, "total": total, "configurations": state.shared.runtimes().list.len() }))
                .into_response()
        }
        Err(e) => store_error(e),
    }
}

pub async fn configurations(State(state): State<Arc<AdminState>>) -> Response {
    Json(view::configurations(&state.shared)).into_response()
}

/// `GET /api/events?status=failed&page=0`: newest first, 200 per page; `?q=LSID|TICKET`
/// searches instead.
pub async fn events(
    State(state): State<Arc<AdminState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let filter = match q.get("status").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match Status::parse(s) {
            Some(s) => Some(s),
            None => return error(StatusCode::BAD_REQUEST, "unknown status"),
        },
    };
    if let Some(text) = q.get("q").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        return match view::search(&state.shared, text).await {
            Ok(rows) => Json(json!({ "events": rows, "q": text, "more": false })).into_response(),
            Err(e) => store_error(e),
        };
    }
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    match view::page_of(&state.shared, filter, page, view::PAGE_SIZE).await {
        Ok((rows, more)) => {
            Json(json!({ "events": rows, "page": page, "more": more })).into_response()
        }
        Err(e) => store_error(e),
    }
}

pub async fn event(State(state): State<Arc<AdminState>>, Path(id): Path<i64>) -> Response {
    match view::event_detail(&state.shared, id).await {
        Ok(Some(d)) => Json(d).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such event"),
        Err(e) => store_error(e),
    }
}

pub async fn retry(State(state): State<Arc<AdminState>>, Path(id): Path<i64>) -> Response {
    match view::retry(&state.shared, id).await {
        Ok(RetryOutcome::Requeued) => Json(json!({ "id": id, "requeued": true })).into_response(),
        Ok(RetryOutcome::NotFound) => error(StatusCode::NOT_FOUND, "no such event"),
        Ok(RetryOutcome::NotRetryable(s)) => error(
            StatusCode::CONFLICT,
            &format!("event is {s}; only failed, unassociated or waiting events can be retried"),
        ),
        Err(e) => store_error(e),
    }
}

/// `POST /api/events/retry-failed`: every failed event becomes due now.
pub async fn retry_failed(State(state): State<Arc<AdminState>>) -> Response {
    match view::retry_failed(&state.shared).await {
        Ok(n) => Json(json!({ "requeued": n })).into_response(),
        Err(e) => store_error(e),
    }
}

pub async fn test_connection(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
) -> Response {
    match view::test_connection(&state.shared, &name).await {
        Some(t) => Json(t).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such configuration"),
    }
}
