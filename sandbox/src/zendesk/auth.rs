//! Authentication (`Authorization: Basic base64("EMAIL/token:API_TOKEN")`), the rate limit and
//! request recording, applied to every `/api/v2` call before its handler.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

use super::rate_limit::Verdict;
use super::Zendesk;
use crate::recorded::{asks_connection_close, RecordedCall};

/// Largest request body accepted (Zendesk's own limit is far above what the API needs).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    Agent,
    EndUser,
    /// No credentials at all (only `users/me.json` answers those).
    Anonymous,
}

pub(crate) fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"Web Password\"")],
        Json(json!({"error": "Couldn't authenticate you"})),
    )
        .into_response()
}

/// `None` when there is no Authorization header, `Some(None)` for bad credentials.
fn identify(zendesk: &Zendesk, headers: &HeaderMap) -> Option<Option<Caller>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let caller = (|| {
        let (scheme, encoded) = value.to_str().ok()?.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, token) = decoded.split_once(':')?;
        let email = user.strip_suffix("/token")?;
        let config = &zendesk.inner.config;
        if email.eq_ignore_ascii_case(&config.email) && token == config.api_token {
            Some(Caller::Agent)
        } else if email.eq_ignore_ascii_case(&config.end_user_email)
            && token == config.end_user_token
        {
            Some(Caller::EndUser)
        } else {
            None
        }
    })();
    Some(caller)
}

fn rate_headers(response: &mut Response, limit: u32, remaining: u32) {
    let headers = response.headers_mut();
    headers.insert("x-rate-limit", HeaderValue::from(limit));
    headers.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
}

pub(crate) async fn gate(State(zendesk): State<Zendesk>, req: Request, next: Next) -> Response {
    let caller = match identify(&zendesk, req.headers()) {
        None if req.uri().path() == "/api/v2/users/me.json" => Caller::Anonymous,
        None | Some(None) => return unauthorized(),
        Some(Some(caller)) => caller,
    };
    let verdict = zendesk.state().limiter.check();
    let (limit, remaining) = match verdict {
        Verdict::Allowed { limit, remaining } => (limit, remaining),
        Verdict::Limited {
            limit,
            retry_after_secs,
        } => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, retry_after_secs.to_string()),
                    (
                        header::CONTENT_TYPE,
                        "text/plain; charset=utf-8".to_string(),
                    ),
                ],
                "Too Many Requests\n",
            )
                .into_response();
            rate_headers(&mut response, limit, 0);
            return response;
        }
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let mut record = RecordedCall {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        action: None,
        params: parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        body: (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned()),
        status: 0,
        connection_close: asks_connection_close(&parts.headers),
    };
    parts.extensions.insert(caller);
    let mut response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    record.status = response.status().as_u16();
    zendesk.state().requests.push(record);
    rate_headers(&mut response, limit, remaining);
    response
}
