//! `users/me.json` and the ticket endpoints.
//!
//! Rules pinned here: agents only (403 otherwise); 404 `RecordNotFound`; a comment needs a
//! non-blank `body` or `html_body` (422 `RecordInvalid`); at most 5000 comments per ticket
//! (422); `tags` on the ticket replace all tags, `tags.json` adds; custom fields are merged by id.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::model::{html_to_text, now_iso, text_to_html, Comment, CustomField, Ticket};
use super::Zendesk;

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "RecordNotFound", "description": "Not found"})),
    )
        .into_response()
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({
            "error": "Forbidden",
            "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."
        })),
    )
        .into_response()
}

fn invalid(description: &str, field: &str, error: &str, detail: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "error": "RecordInvalid",
            "description": description,
            "details": { field: [{"description": detail, "error": error}] }
        })),
    )
        .into_response()
}

fn bad_json(detail: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "InvalidEndpoint", "description": detail})),
    )
        .into_response()
}

#[allow(clippy::result_large_err)] // the error is the finished HTTP answer
/// 429 for the per-ticket update limit (the account budget's headers are added by the gate).
fn too_many_updates(retry_after: u64) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (axum::http::header::RETRY_AFTER, retry_after.to_string()),
            (
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
        ],
        "Too Many Requests: ticket update limit (30 per 10 minutes)\n",
    )
        .into_response()
}

#[allow(clippy::result_large_err)] // the error is the finished HTTP answer
fn require_agent(caller: Caller) -> Result<(), Response> {
    match caller {
        Caller::Agent => Ok(()),
        Caller::EndUser => Err(forbidden()),
        Caller::Anonymous => Err(super::auth::unauthorized()),
    }
}

/// `123.json` -> 123.
fn ticket_id(file: &str) -> Option<u64> {
    file.strip_suffix(".json")?.parse().ok()
}

pub(crate) async fn me(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
) -> Json<Value> {
    let c = &z.inner.config;
    let user = match caller {
        Caller::Agent => json!({
            "id": c.agent_id, "name": "Sandbox Agent", "email": c.email, "role": "agent",
            "active": true, "locale": "en-US", "time_zone": "UTC",
        }),
        Caller::EndUser => json!({
            "id": c.end_user_id, "name": "Sandbox Customer", "email": c.end_user_email,
            "role": "end-user", "active": true, "locale": "en-US", "time_zone": "UTC",
        }),
        Caller::Anonymous => json!({
            "id": null, "url": null, "name": "Anonymous user", "email": "invalid@example.com",
            "role": "end-user", "active": true, "locale": "en-US", "time_zone": "UTC",
        }),
    };
    Json(json!({ "user": user }))
}

pub(crate) async fn show(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
    Path(file): Path<String>,
) -> Response {
    if let Err(denied) = require_agent(caller) {
        return denied;
    }
    let Some(id) = ticket_id(&file) else {
        return not_found();
    };
    match z.ticket(id) {
        Some(ticket) => {
            Json(json!({"ticket": ticket.to_json(&z.base_url(), z.inner.config.end_user_id)}))
                .into_response()
        }
        None => not_found(),
    }
}

#[derive(Debug, Deserialize)]
struct CommentIn {
    body: Option<String>,
    html_body: Option<String>,
    public: Option<bool>,
    author_id: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct TicketIn {
    subject: Option<String>,
    status: Option<String>,
    comment: Option<CommentIn>,
    tags: Option<Vec<String>>,
    custom_fields: Option<Vec<CustomField>>,
}

#[derive(Debug, Deserialize)]
struct TicketEnvelope {
    ticket: TicketIn,
}

#[allow(clippy::result_large_err)] // the error is the finished HTTP answer
fn parse_ticket(body: &Bytes) -> Result<TicketIn, Response> {
    serde_json::from_slice::<TicketEnvelope>(body)
        .map(|e| e.ticket)
        .map_err(|e| bad_json(&format!("Invalid JSON or missing ticket object: {e}")))
}

const STATUSES: [&str; 6] = ["new", "open", "pending", "hold", "solved", "closed"];

/// Applies an update to a ticket; returns the new comment if any.
#[allow(clippy::result_large_err)] // the error is the finished HTTP answer
fn apply(
    z: &Zendesk,
    ticket: &mut Ticket,
    next_comment: &mut u64,
    max_comments: usize,
    input: TicketIn,
) -> Result<Option<Comment>, Response> {
    if let Some(status) = &input.status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(invalid(
                "Record validation errors",
                "status",
                "InvalidValue",
                "Status: is invalid",
            ));
        }
    }
    let comment = match input.comment {
        None => None,
        Some(c) => {
            let html = c.html_body.filter(|h| !html_to_text(h).trim().is_empty());
            let text = c.body.filter(|b| !b.trim().is_empty());
            let (body, html_body) = match (text, html) {
                (_, Some(html)) => (html_to_text(&html), html),
                (Some(text), None) => (text.clone(), text_to_html(&text)),
                (None, None) => {
                    return Err(invalid(
                        "Record validation errors",
                        "base",
                        "BlankValue",
                        "Comment: cannot be blank",
                    ))
                }
            };
            if ticket.comments.len() >= max_comments {
                return Err(invalid(
                    "Record validation errors",
                    "base",
                    "TooManyComments",
                    &format!("Ticket has reached the maximum number of comments ({max_comments})"),
                ));
            }
            let comment = Comment {
                id: *next_comment,
                author_id: c.author_id.unwrap_or(z.inner.config.agent_id),
                public: c.public.unwrap_or(true),
                body,
                html_body,
                created_at: now_iso(),
            };
            *next_comment += 1;
            Some(comment)
        }
    };
    if let Some(subject) = input.subject {
        ticket.subject = subject;
    }
    if let Some(status) = input.status {
        ticket.status = status;
    }
    if let Some(tags) = input.tags {
        ticket.tags = dedup(tags);
    }
    for field in input.custom_fields.unwrap_or_default() {
        match ticket.custom_fields.iter_mut().find(|f| f.id == field.id) {
            Some(existing) => existing.value = field.value,
            None => ticket.custom_fields.push(field),
        }
    }
    if let Some(comment) = &comment {
        ticket.comments.push(comment.clone());
    }
    ticket.updated_at = now_iso();
    Ok(comment)
}

fn dedup(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_lowercase().replace(' ', "_");
        if !tag.is_empty() && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

fn audit(z: &Zendesk, ticket: &Ticket, comment: Option<&Comment>) -> Value {
    let events: Vec<Value> = comment.map(|c| c.to_json()).into_iter().collect();
    json!({
        "id": comment.map(|c| c.id).unwrap_or(ticket.id * 1000),
        "ticket_id": ticket.id,
        "created_at": ticket.updated_at,
        "author_id": z.inner.config.agent_id,
        "events": events,
    })
}

pub(crate) async fn update(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
    Path(file): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(denied) = require_agent(caller) {
        return denied;
    }
    let Some(id) = ticket_id(&file) else {
        return not_found();
    };
    let input = match parse_ticket(&body) {
        Ok(input) => input,
        Err(e) => return e,
    };
    let mut state = z.state();
    let state = &mut *state;
    let Some(ticket) = state.tickets.get_mut(&id) else {
        return not_found();
    };
    if let Err(retry_after) = state.ticket_updates.check(id) {
        return too_many_updates(retry_after);
    }
    let applied = apply(
        &z,
        ticket,
        &mut state.next_comment,
        state.max_comments,
        input,
    );
    if applied.is_ok() {
        state.ticket_updates.record(id);
    }
    match applied {
        Ok(comment) => Json(json!({
            "ticket": ticket.to_json(&z.base_url(), z.inner.config.end_user_id),
            "audit": audit(&z, ticket, comment.as_ref()),
        }))
        .into_response(),
        Err(e) => e,
    }
}

pub(crate) async fn create(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    if let Err(denied) = require_agent(caller) {
        return denied;
    }
    let input = match parse_ticket(&body) {
        Ok(input) => input,
        Err(e) => return e,
    };
    if input.comment.is_none() {
        return invalid(
            "Record validation errors",
            "description",
            "BlankValue",
            "Description: cannot be blank",
        );
    }
    let id = z.create_ticket(input.subject.as_deref().unwrap_or(""));
    let mut state = z.state();
    let state = &mut *state;
    let Some(ticket) = state.tickets.get_mut(&id) else {
        return not_found();
    };
    match apply(
        &z,
        ticket,
        &mut state.next_comment,
        state.max_comments,
        input,
    ) {
        Ok(comment) => (
            StatusCode::CREATED,
            Json(json!({
                "ticket": ticket.to_json(&z.base_url(), z.inner.config.end_user_id),
                "audit": audit(&z, ticket, comment.as_ref()),
            })),
        )
            .into_response(),
        Err(e) => {
            state.tickets.remove(&id);
            e
        }
    }
}

/// `GET /api/v2/tickets/{id}/comments.json`.
pub(crate) async fn comments(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    if let Err(denied) = require_agent(caller) {
        return denied;
    }
    let (Ok(id), "comments.json") = (id.parse::<u64>(), file.as_str()) else {
        return not_found();
    };
    match z.ticket(id) {
        Some(ticket) => {
            let comments: Vec<Value> = ticket.comments.iter().map(Comment::to_json).collect();
            Json(json!({
                "comments": comments,
                "next_page": null,
                "previous_page": null,
                "count": comments.len(),
            }))
            .into_response()
        }
        None => not_found(),
    }
}

#[derive(Debug, Deserialize)]
struct TagsIn {
    tags: Vec<String>,
}

/// `PUT /api/v2/tickets/{id}/tags.json`: adds tags.
pub(crate) async fn add_tags(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
    Path((id, file)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(denied) = require_agent(caller) {
        return denied;
    }
    let (Ok(id), "tags.json") = (id.parse::<u64>(), file.as_str()) else {
        return not_found();
    };
    let input: TagsIn = match serde_json::from_slice(&body) {
        Ok(input) => input,
        Err(e) => return bad_json(&format!("Invalid JSON or missing tags: {e}")),
    };
    let mut state = z.state();
    let Some(ticket) = state.tickets.get_mut(&id) else {
        return not_found();
    };
    let mut tags = ticket.tags.clone();
    tags.extend(input.tags);
    ticket.tags = dedup(tags);
    ticket.updated_at = now_iso();
    Json(json!({"tags": ticket.tags})).into_response()
}
