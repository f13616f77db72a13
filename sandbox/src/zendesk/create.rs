//! `POST /api/v2/tickets.json` with Zendesk's `Idempotency-Key`, requesters by e-mail, and the
//! closed-ticket rule.
//!
//! Idempotency as Zendesk's Ticketing API introduction documents it: a first request with a key
//! creates the ticket and answers 201 with `x-idempotency-lookup: miss`; the same key with the
//! same request within two hours answers the first answer again (201, same ticket) with
//! `x-idempotency-lookup: hit` and creates nothing; the same key with different parameters
//! answers 400 `IdempotentRequestError` "Request parameters don't match the given idempotency
//! key". Keys are at most 255 characters. Only successful creations are remembered.
//!
//! `ticket.requester` `{name, email}` finds the user with that e-mail or creates an end user
//! (an invalid e-mail is 422); `requester_id` must name a known user. A ticket created without a
//! status is `new`. A `closed` ticket takes no update at all: 422 RecordInvalid "Status: closed
//! prevents ticket update".

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::auth::Caller;
use super::tickets::{bad_json, invalid, require_agent};
use super::Zendesk;

/// How long Zendesk remembers an idempotency key.
pub const IDEMPOTENCY_KEY_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);
/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// First id given to users created from requesters.
const FIRST_USER_ID: u64 = 50_001;

/// A user made from a ticket's `requester`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

#[derive(Debug)]
struct Remembered {
    request: Value,
    answer: Value,
    at: Instant,
}

/// Idempotency keys and requesters (part of the simulator's state).
#[derive(Debug, Default)]
pub(crate) struct Creates {
    keys: HashMap<String, Remembered>,
    users: Vec<User>,
    /// Serializes creations so two concurrent requests with one key cannot both create.
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Creations whose answer is lost: the ticket is made, the connection drops mid-answer.
    lose_answers: u32,
    /// Creations whose answer never comes (the caller is killed or times out waiting).
    hang_answers: u32,
}

/// 422 for any update of a closed ticket.
pub(crate) fn closed_refusal() -> Response {
    invalid(
        "Record validation errors",
        "status",
        "InvalidValue",
        "Status: closed prevents ticket update",
    )
}

fn idempotency_mismatch() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "error": "IdempotentRequestError",
            "description": "Request parameters don't match the given idempotency key"
        })),
    )
        .into_response()
}

fn with_lookup(mut response: Response, lookup: &'static str) -> Response {
    response
        .headers_mut()
        .insert("x-idempotency-lookup", HeaderValue::from_static(lookup));
    response
}

/// The light check Zendesk's user validation makes: one `@`, a dotted domain, no spaces.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.contains(char::is_whitespace)
}

/// What the creation asks for besides what `tickets::create` handles.
#[derive(Debug, Default)]
struct Extras {
    requester: Option<(Option<String>, String)>,
    requester_id: Option<u64>,
    group_id: Option<u64>,
    brand_id: Option<u64>,
    status_given: bool,
}

#[allow(clippy::result_large_err)] // the error is the finished HTTP answer
fn extras(request: &Value) -> Result<Extras, Response> {
    let t = &request["ticket"];
    let id = |k: &str| -> Result<Option<u64>, Response> {
        match &t[k] {
            Value::Null => Ok(None),
            v => v.as_u64().map(Some).ok_or_else(|| {
                invalid(
                    "Record validation errors",
                    k,
                    "InvalidValue",
                    &format!("{k}: is invalid"),
                )
            }),
        }
    };
    let requester = match &t["requester"] {
        Value::Null => None,
        Value::Object(r) => {
            let email = r.get("email").and_then(Value::as_str).unwrap_or("").trim();
            if !valid_email(email) {
                return Err(invalid(
                    "Record validation errors",
                    "requester",
                    "InvalidValue",
                    &format!("Requester: Email {email:?} is not properly formatted"),
                ));
            }
            let name = r
                .get("name")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            Some((name, email.to_ascii_lowercase()))
        }
        _ => return Err(bad_json("ticket.requester must be an object")),
    };
    Ok(Extras {
        requester,
        requester_id: id("requester_id")?,
        group_id: id("group_id")?,
        brand_id: id("brand_id")?,
        status_given: !t["status"].is_null(),
    })
}

/// `POST /api/v2/tickets.json`.
pub(crate) async fn create(
    State(z): State<Zendesk>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(denied) = require_agent(caller) {
        return denied;
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_json(&format!("Invalid JSON or missing ticket object: {e}")),
    };
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY => Some(k.to_string()),
        Some(_) => {
            return bad_json(&format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
            ))
        }
    };
    let lock = z.state().creates.lock.clone();
    let _serialized = lock.lock().await;
    if let Some(key) = &key {
        let mut state = z.state();
        state
            .creates
            .keys
            .retain(|_, r| r.at.elapsed() < IDEMPOTENCY_KEY_LIFETIME);
        if let Some(r) = state.creates.keys.get(key) {
            if r.request != request {
                return idempotency_mismatch();
            }
            let answer = (StatusCode::CREATED, Json(r.answer.clone())).into_response();
            return with_lookup(answer, "hit");
        }
    }
    let extras = match extras(&request) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if let Some(id) = extras.requester_id {
        let known = id == z.inner.config.end_user_id
            || id == z.inner.config.agent_id
            || z.state().creates.users.iter().any(|u| u.id == id);
        if !known {
            return invalid(
                "Record validation errors",
                "requester_id",
                "InvalidValue",
                "Requester: is invalid",
            );
        }
    }
    let created = super::tickets::create(State(z.clone()), Extension(caller), body).await;
    if created.status() != StatusCode::CREATED {
        return created;
    }
    let Ok(bytes) = axum::body::to_bytes(created.into_body(), usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let Some(id) = answer["ticket"]["id"].as_u64() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // The guard must not live across an await (the handler's future is Send).
    let (lose, hang) = {
        let mut state = z.state();
        let requester_id = match extras.requester {
            Some((name, email)) => Some(user_for(&mut state.creates.users, name, &email)),
            None => extras.requester_id,
        };
        let base = z.base_url();
        if let Some(ticket) = state.tickets.get_mut(&id) {
            ticket.requester_id = requester_id;
            ticket.group_id = extras.group_id;
            ticket.brand_id = extras.brand_id;
            if !extras.status_given {
                ticket.status = "new".into();
            }
            answer["ticket"] = ticket.to_json(&base, z.inner.config.end_user_id);
        }
        if let Some(key) = key.clone() {
            state.creates.keys.insert(
                key,
                Remembered {
                    request,
                    answer: answer.clone(),
                    at: Instant::now(),
                },
            );
        }
        let lose = state.creates.lose_answers > 0;
        state.creates.lose_answers = state.creates.lose_answers.saturating_sub(1);
        let hang = !lose && state.creates.hang_answers > 0;
        if hang {
            state.creates.hang_answers -= 1;
        }
        (lose, hang)
    };
    if lose {
        return lost_answer();
    }
    if hang {
        tokio::time::sleep(crate::faults::HANG).await;
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    }
    let response = (StatusCode::CREATED, Json(answer)).into_response();
    match key {
        Some(_) => with_lookup(response, "miss"),
        None => response,
    }
}

/// The user with `email`, created (named `name`, else the e-mail's local part) when unknown.
fn user_for(users: &mut Vec<User>, name: Option<String>, email: &str) -> u64 {
    if let Some(u) = users.iter().find(|u| u.email == email) {
        return u.id;
    }
    let id = FIRST_USER_ID + users.len() as u64;
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    users.push(User {
        id,
        name,
        email: email.to_string(),
    });
    id
}

/// 201 headers, a few bytes of body, then the connection is aborted (as when the caller crashed
/// or the network failed after Zendesk had created the ticket).
fn lost_answer() -> Response {
    struct Truncated(bool);
    impl hyper::body::Body for Truncated {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            if self.0 {
                return std::task::Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "sandbox: answer of the ticket creation lost",
                ))));
            }
            self.0 = true;
            std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from_static(
                b"{\"ticket\":",
            )))))
        }
    }
    let mut response = Response::new(axum::body::Body::new(Truncated(false)));
    *response.status_mut() = StatusCode::CREATED;
    response
}

impl Zendesk {
    /// The next `n` ticket creations are applied but their answers are lost mid-way (the
    /// caller sees a broken connection), as a crash between the call and its outcome would.
    pub fn lose_next_create_answers(&self, n: u32) {
        self.state().creates.lose_answers += n;
    }
    /// The next `n` ticket creations are applied but never answered: the caller waits until it
    /// gives up or is killed.
    pub fn hang_next_create_answers(&self, n: u32) {
        self.state().creates.hang_answers += n;
    }
    /// Users created from ticket requesters, oldest first.
    pub fn users(&self) -> Vec<User> {
        self.state().creates.users.clone()
    }
    /// Sets a ticket's status directly (as an agent or an automation would), e.g. `closed`.
    pub fn set_ticket_status(&self, id: u64, status: &str) {
        if let Some(t) = self.state().tickets.get_mut(&id) {
            t.status = status.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::Zendesk;
    use crate::test_support::{basic, json_request, send, Answer};
    use crate::SandboxOptions;

    fn zendesk() -> (Zendesk, axum::Router, String) {
        let z = Zendesk::for_tests(&SandboxOptions::default());
        let auth = basic(&format!("{}/token", z.email()), &z.api_token());
        let r = z.router();
        (z, r, auth)
    }

    async fn post(r: &axum::Router, auth: &str, key: Option<&str>, body: &str) -> Answer {
        let mut req = json_request("POST", "/api/v2/tickets.json", Some(auth), body);
        if let Some(key) = key {
            req.headers_mut()
                .insert("Idempotency-Key", key.parse().unwrap());
        }
        send(r, req).await
    }

    fn body(subject: &str) -> String {
        json!({"ticket": {
            "subject": subject,
            "requester": {"name": "Ann Smith", "email": "Ann@Example.com"},
            "group_id": 7, "brand_id": 8, "tags": ["remote_support"],
            "comment": {"html_body": "<p>report</p>", "public": false}
        }})
        .to_string()
    }

    #[tokio::test]
    async fn same_key_and_body_answers_the_first_ticket_again_with_a_hit() {
        let (z, r, auth) = zendesk();
        let first = post(&r, &auth, Some("k-1"), &body("Printer")).await;
        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!(first.header("x-idempotency-lookup"), "miss");
        let again = post(&r, &auth, Some("k-1"), &body("Printer")).await;
        assert_eq!(again.status, 201);
        assert_eq!(again.header("x-idempotency-lookup"), "hit");
        assert_eq!(again.json()["ticket"], first.json()["ticket"]);
        assert_eq!(z.tickets().len(), 1, "the replay created nothing");

        let other = post(&r, &auth, Some("k-1"), &body("Scanner")).await;
        assert_eq!(other.status, 400);
        assert_eq!(
            other.json(),
            json!({"error": "IdempotentRequestError",
                   "description": "Request parameters don't match the given idempotency key"})
        );
        assert_eq!(z.tickets().len(), 1);

        let no_key = post(&r, &auth, None, &body("Printer")).await;
        assert_eq!(no_key.status, 201);
        assert_eq!(no_key.header("x-idempotency-lookup"), "");
        assert_eq!(z.tickets().len(), 2, "without a key every request creates");
        z.lose_next_create_answers(1);
        let mut req = json_request("POST", "/api/v2/tickets.json", Some(&auth), &body("Lost"));
        req.headers_mut()
            .insert("Idempotency-Key", "k-2".parse().unwrap());
        let lost = tower::ServiceExt::oneshot(r.clone(), req).await.unwrap();
        assert_eq!(lost.status(), 201);
        let read = axum::body::to_bytes(lost.into_body(), usize::MAX).await;
        assert!(read.is_err(), "the answer is cut short");
        assert_eq!(z.tickets().len(), 3, "the creation itself happened");
        let retry = post(&r, &auth, Some("k-2"), &body("Lost")).await;
        assert_eq!(retry.header("x-idempotency-lookup"), "hit");
        assert_eq!(retry.json()["ticket"]["subject"], "Lost");
        assert_eq!(z.tickets().len(), 3);
        let long = "k".repeat(256);
        assert_eq!(post(&r, &auth, Some(&long), &body("x")).await.status, 400);
    }

    #[tokio::test]
    async fn requester_is_found_or_created_by_email_and_a_new_ticket_is_new() {
        let (z, r, auth) = zendesk();
        let a = post(&r, &auth, None, &body("a")).await.json();
        let b = post(&r, &auth, None, &body("b")).await.json();
        let users = z.users();
        assert_eq!(users.len(), 1, "one user per e-mail (case-insensitive)");
        assert_eq!(
            (users[0].name.as_str(), users[0].email.as_str()),
            ("Ann Smith", "ann@example.com")
        );
        for t in [&a["ticket"], &b["ticket"]] {
            assert_eq!(t["requester_id"], users[0].id);
            assert_eq!(
                (t["group_id"].as_u64(), t["brand_id"].as_u64()),
                (Some(7), Some(8))
            );
            assert_eq!(t["status"], "new");
            assert_eq!(t["tags"], json!(["remote_support"]));
        }
        let id = a["ticket"]["id"].as_u64().unwrap();
        let c = &z.comments(id)[0];
        assert!(!c.public && c.html_body == "<p>report</p>");

        let bad = json!({"ticket": {"requester": {"name": "x", "email": "not an email"},
                          "comment": {"body": "x"}}});
        let answer = post(&r, &auth, None, &bad.to_string()).await;
        assert_eq!(answer.status, 422);
        assert_eq!(answer.json()["error"], "RecordInvalid");
        let unknown = json!({"ticket": {"requester_id": 999_999, "comment": {"body": "x"}}});
        assert_eq!(
            post(&r, &auth, None, &unknown.to_string()).await.status,
            422
        );
        assert_eq!(z.tickets().len(), 2);
    }

    #[tokio::test]
    async fn a_closed_ticket_takes_no_update() {
        let (z, r, auth) = zendesk();
        let id = z.create_ticket("done");
        z.set_ticket_status(id, "closed");
        let update = json!({"ticket": {"comment": {"body": "late", "public": false}}});
        let uri = format!("/api/v2/tickets/{id}.json");
        let answer = send(
            &r,
            json_request("PUT", &uri, Some(&auth), &update.to_string()),
        )
        .await;
        assert_eq!(answer.status, 422);
        assert_eq!(
            answer.json()["details"]["status"][0]["description"],
            "Status: closed prevents ticket update"
        );
        let tags = json!({"tags": ["x"]});
        let uri = format!("/api/v2/tickets/{id}/tags.json");
        let answer = send(
            &r,
            json_request("PUT", &uri, Some(&auth), &tags.to_string()),
        )
        .await;
        assert_eq!(answer.status, 422);
        let t = z.ticket(id).unwrap();
        assert!(t.comments.is_empty() && t.tags.is_empty());
    }
}
