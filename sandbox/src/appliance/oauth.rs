//! OAuth 2 client credentials (`POST /oauth2/token`) and the check every API call goes through.
//!
//! Rules pinned here: HTTP Basic client id/secret, `grant_type=client_credentials`, at most 30
//! live tokens per API account (issuing the 31st silently invalidates the oldest), expired or
//! evicted tokens answer 401. Legacy `username`/`password` parameters work unless the appliance
//! is "16.2.1 or newer only".

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;
use tokio::time::Instant;

use super::params::Params;
use super::{random_token, xml, Appliance};
use crate::recorded::asks_connection_close;

/// Live tokens one API account may hold.
pub(crate) const MAX_LIVE_TOKENS: usize = 30;

#[derive(Debug)]
pub(crate) struct Tokens {
    live: VecDeque<(String, Instant)>,
    lifetime: Duration,
    requests: usize,
}

impl Tokens {
    pub fn new(lifetime: Duration) -> Tokens {
        Tokens {
            live: VecDeque::new(),
            lifetime,
            requests: 0,
        }
    }

    pub fn set_lifetime(&mut self, lifetime: Duration) {
        self.lifetime = lifetime;
    }

    fn prune(&mut self) {
        let now = Instant::now();
        self.live.retain(|(_, expires)| *expires > now);
    }

    pub fn live(&mut self) -> usize {
        self.prune();
        self.live.len()
    }

    pub fn requests(&self) -> usize {
        self.requests
    }

    /// Issues a token, evicting the oldest when the account already holds the maximum.
    fn issue(&mut self) -> (String, Duration) {
        self.prune();
        while self.live.len() >= MAX_LIVE_TOKENS {
            self.live.pop_front();
        }
        let token = random_token(40);
        self.live
            .push_back((token.clone(), Instant::now() + self.lifetime));
        (token, self.lifetime)
    }

    fn is_valid(&mut self, token: &str) -> bool {
        self.prune();
        self.live.iter().any(|(t, _)| t == token)
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Decodes `Authorization: Basic base64(id:secret)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// `POST /oauth2/token`, recorded (without secrets) with the status it got.
pub(crate) async fn token(
    State(appliance): State<Appliance>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = token_answer(&appliance, &method, &headers, &body);
    let received = Params::parse(&method, query.as_deref(), &headers, &body);
    let record = received.record(
        &method,
        "/oauth2/token",
        None,
        response.status().as_u16(),
        asks_connection_close(&headers),
    );
    appliance.state().token_calls.push(record);
    response
}

/// The answer to one token request. `grant_type` is read from the form body only: the
/// client credentials grant is a form-encoded POST (RFC 6749 section 4.4.2), and a
/// `grant_type` in the query string counts as missing.
fn token_answer(
    appliance: &Appliance,
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if method != Method::POST {
        return oauth_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "The token endpoint accepts POST only.",
        );
    }
    let mut state = appliance.state();
    state.tokens.requests += 1;
    let config = &appliance.inner.config;
    let authorized = basic_credentials(headers)
        .map(|(id, secret)| id == config.client_id && secret == config.client_secret)
        .unwrap_or(false);
    if !authorized {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
    }
    let params = Params::parse(method, None, headers, body);
    match params.get("grant_type") {
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request is missing the grant_type parameter.",
            )
        }
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported.",
            )
        }
    }
    let (token, lifetime) = state.tokens.issue();
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
        })),
    )
        .into_response()
}

/// Checks a Bearer token or, on older appliances, `username`/`password` parameters. The
/// error is the 401 answer to send.
#[allow(clippy::result_large_err)] // the error is the finished HTTP answer
pub(crate) fn authenticate(
    appliance: &Appliance,
    headers: &HeaderMap,
    params: &Params,
    namespace_uri: &str,
) -> Result<(), Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let config = &appliance.inner.config;
    let failure = |message: &str| {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, xml::CONTENT_TYPE)],
            xml::error_body(namespace_uri, message),
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        response
    };
    if let Some(token) = bearer {
        return if appliance.state().tokens.is_valid(&token) {
            Ok(())
        } else {
            Err(failure("Invalid or expired access token."))
        };
    }
    match (params.get("username"), params.get("password")) {
        (Some(_), Some(_)) if config.oauth_only => Err(failure(
            "Username and password authentication is not supported. Use an OAuth access token.",
        )),
        (Some(user), Some(password))
            if user == config.legacy_username && password == config.legacy_password =>
        {
            Ok(())
        }
        (Some(_), Some(_)) => Err(failure("Invalid username or password.")),
        _ => Err(failure("Authentication required.")),
    }
}
