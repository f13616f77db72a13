//! `users/me.json` and the ticket endpoints.
//!
//! Rules pinned here: agents only (403 otherwise); 404 `RecordNotFound`; a comment needs a
//! non-blank `body` or `html_body` (422 `RecordInvalid`) of at most 65,535 characters (422
//! `RecordInvalid` past it); at most 5000 comments per ticket (422); `comment.uploads` takes
//! tokens from `uploads.json` (each used once; an unknown token is refused); `tags` on the ticket
//! replace all tags, `additional_tags` / `remove_tags` add / remove without replacing, `tags.json`
//! adds; custom fields are merged by id. Comments are listed in pages (`page`, `per_page` up to
//! 100, `sort_order=asc|desc`) linked by absolute `next_page` / `previous_page` URLs.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::model::{html_to_text, now_iso, text_to_html, Attachment, Comment, CustomField, Ticket};
use super::{Zendesk, MAX_COMMENT_CHARS};

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

pub(super) fn invalid(description: &str, field: &str, error: &str, detail: &str) -> Response {
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

pub(super) fn bad_json(detail: &str) -> Response {
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
pub(super) fn require_agent(caller: Caller) -> Result<(), Response> {
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
    #[serde(default)]
    uploads: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct TicketIn {
    subject: Option<String>,
    status: Option<String>,
    comment: Option<CommentIn>,
    tags: Option<Vec<String>>,
    additional_tags: Option<Vec<String>>,
    remove_tags: Option<Vec<String>>,
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
    attachments: Vec<Attachment>,
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
            // The limit applies to what the caller sent (HTML when given, else the text).
            let (body, html_body, chars) = match (text, html) {
                (_, Some(html)) => (html_to_text(&html), html.clone(), html.chars().count()),
                (Some(text), None) => (text.clone(), text_to_html(&text), text.chars().count()),
                (None, None) => {
                    return Err(invalid(
                        "Record validation errors",
                        "base",
                        "BlankValue",
                        "Comment: cannot be blank",
                    ))
                }
            };
            if chars > MAX_COMMENT_CHARS {
                return Err(invalid(
                    "Record validation errors",
                    "base",
                    "TooLong",
                    &format!("Comment: is too long (maximum is {MAX_COMMENT_CHARS} characters)"),
                ));
            }
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
                attachments,
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
    if let Some(extra) = input.additional_tags {
        let mut tags = ticket.tags.clone();
        tags.extend(extra);
        ticket.tags = dedup(tags);
    }
    if let Some(remove) = input.remove_tags {
        let remove = dedup(remove);
        ticket.tags.retain(|t| !remove.contains(t));
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
    let events: Vec<Value> = comment
        .map(|c| c.to_json(&z.base_url()))
        .into_iter()
        .collect();
    json!({
        "id": comment.map(|c| c.id).unwrap_or(ticket.id * 1000),
        "ticket_id": ticket.id,
        "created_at": ticket.updated_at,
        "author_id": z.inner.config.agent_id,
        "events": events,
    })
}

/// The files of a comment's `uploads` tokens, or the first unknown (or spent) token.
fn attachments_for(
    uploads: &std::collections::HashMap<String, Attachment>,
    tokens: &[String],
) -> Result<Vec<Attachment>, String> {
    tokens
        .iter()
        .map(|token| uploads.get(token).cloned().ok_or_else(|| token.clone()))
        .collect()
}

/// 422 for a token `uploads.json` never gave (or one already used).
fn bad_token(token: &str) -> Response {
    invalid(
        "Record validation errors",
        "uploads",
        "InvalidValue",
        &format!("Uploads: token {token} is invalid or has expired"),
    )
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
    if let Some(delay) = z.take_late_update() {
        // Zendesk sometimes applies an update after the caller gave up waiting: the answer
        // never comes, the update lands `delay` later, whether or not the caller is still there.
        let late = z.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = update_now(&late, id, input);
        });
        tokio::time::sleep(crate::faults::HANG).await;
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    }
    update_now(&z, id, input)
}

fn update_now(z: &Zendesk, id: u64, input: TicketIn) -> Response {
    let mut state = z.state();
    let state = &mut *state;
    let Some(ticket) = state.tickets.get_mut(&id) else {
        return not_found();
    };
    if ticket.status == "closed" {
        return super::create::closed_refusal();
    }
    if let Err(retry_after) = state.ticket_updates.check(id) {
        return too_many_updates(retry_after);
    }
    let tokens = input
        .comment
        .as_ref()
        .map(|c| c.uploads.clone())
        .unwrap_or_default();
    let attachments = match attachments_for(&state.uploads, &tokens) {
        Ok(a) => a,
        Err(token) => return bad_token(&token),
    };
    let applied = apply(
        z,
        ticket,
        &mut state.next_comment,
        state.max_comments,
        attachments,
        input,
    );
    if applied.is_ok() {
        state.ticket_updates.record(id);
        for token in &tokens {
            state.uploads.remove(token);
        }
    }
    match applied {
        Ok(comment) => Json(json!({
            "ticket": ticket.to_json(&z.base_url(), z.inner.config.end_user_id),
            "audit": audit(z, ticket, comment.as_ref()),
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
    let tokens = input
        .comment
        .as_ref()
        .map(|c| c.uploads.clone())
        .unwrap_or_default();
    let attachments = match attachments_for(&z.state().uploads, &tokens) {
        Ok(a) => a,
        Err(token) => return bad_token(&token),
    };
    let id = z.create_ticket(input.subject.as_deref().unwrap_or(""));
    let mut state = z.state();
    let state = &mut *state;
    let Some(ticket) = state.tickets.get_mut(&id) else {
        return not_found();
    };
    let applied = apply(
        &z,
        ticket,
        &mut state.next_comment,
        state.max_comments,
        attachments,
        input,
    );
    if applied.is_ok() {
        for token in &tokens {
            state.uploads.remove(token);
        }
    }
    match applied {
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

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    page: Option<String>,
    per_page: Option<String>,
    sort_order: Option<String>,
}

/// `GET /api/v2/tickets/{id}/comments.json?page=N&per_page=M&sort_order=asc|desc`: offset
/// pagination as Zendesk answers it, `next_page` an absolute URL (on the host set with
/// [`Zendesk::set_next_page_base`]) or null on the last page.
pub(crate) async fn comments(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
    Path((id, file)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Err(denied) = require_agent(caller) {
        return denied;
    }
    let (Ok(id), "comments.json") = (id.parse::<u64>(), file.as_str()) else {
        return not_found();
    };
    let Some(ticket) = z.ticket(id) else {
        return not_found();
    };
    let default_per_page = z.state().comments_per_page;
    let page = q.page.as_deref().map_or(Ok(1), str::parse::<usize>);
    let per_page = q
        .per_page
        .as_deref()
        .map_or(Ok(default_per_page), str::parse::<usize>);
    let (Ok(page), Ok(per_page)) = (page, per_page) else {
        return bad_json("page and per_page must be numbers");
    };
    let page = page.max(1);
    let per_page = per_page.clamp(1, 100);
    let desc = match q.sort_order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return bad_json("sort_order must be asc or desc"),
    };
    let base = z.base_url();
    let mut all: Vec<&Comment> = ticket.comments.iter().collect();
    if desc {
        all.reverse();
    }
    let shown: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|c| c.to_json(&base))
        .collect();
    let link_base = z.next_page_base();
    let order = if desc { "desc" } else { "asc" };
    let link = |p: usize| {
        format!("{link_base}/api/v2/tickets/{id}/comments.json?page={p}&per_page={per_page}&sort_order={order}")
    };
    let next = (page * per_page < all.len()).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    Json(json!({
        "comments": shown,
        "next_page": next,
        "previous_page": previous,
        "count": all.len(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    filename: Option<String>,
}

/// `POST /api/v2/uploads.json?filename=NAME` with the raw bytes: 201 with a token for
/// `comment.uploads`. Refused (422, as for a file type the account does not allow) while
/// [`Zendesk::refuse_uploads`] is on. [guess] The refusal body: Zendesk does not publish it.
pub(crate) async fn upload(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(denied) = require_agent(caller) {
        return denied;
    }
    let Some(filename) = q.filename.filter(|f| !f.trim().is_empty()) else {
        return invalid(
            "Record validation errors",
            "filename",
            "BlankValue",
            "Filename: cannot be blank",
        );
    };
    let mut state = z.state();
    if let Some(reason) = &state.uploads_refused {
        return invalid(
            "Record validation errors",
            "base",
            "InvalidValue",
            &format!("{filename}: {reason}"),
        );
    }
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/binary")
        .to_string();
    state.next_attachment += 1;
    let attachment = Attachment {
        id: state.next_attachment,
        file_name: filename,
        content_type,
        size: body.len(),
        content: body.to_vec(),
    };
    let token = crate::appliance::random_token(25);
    state.uploads.insert(token.clone(), attachment.clone());
    let a = attachment.to_json(&z.base_url());
    (
        StatusCode::CREATED,
        Json(json!({"upload": {"token": token, "attachment": a, "attachments": [a]}})),
    )
        .into_response()
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
    if ticket.status == "closed" {
        return super::create::closed_refusal();
    }
    let mut tags = ticket.tags.clone();
    tags.extend(input.tags);
    ticket.tags = dedup(tags);
    ticket.updated_at = now_iso();
    Json(json!({"tags": ticket.tags})).into_response()
}
