//! Who may post outbound events: the source-network allow-list and the shared `?token=`.
//!
//! Both answers are one line the appliance shows in its outbound-event status column, so an
//! operator sees at once whether the URL lacks the token (401), carries a wrong one (403) or
//! comes from a network that is not allowed (403). The token is compared in constant time and
//! never echoed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::Shared;

/// Equal-length inputs are compared without an early exit; the length itself is not secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request may not post events, as a one-line answer; `None` when it may.
pub fn refusal(
    settings: &crate::settings::IngestSettings,
    peer: Option<SocketAddr>,
    token: Option<&str>,
) -> Option<(StatusCode, String)> {
    if !settings.allowed_networks.is_empty() {
        let allowed =
            peer.is_some_and(|p| settings.allowed_networks.iter().any(|n| n.contains(p.ip())));
        if !allowed {
            let who = peer.map_or("an unknown address".to_string(), |p| p.ip().to_string());
            return Some((
                StatusCode::FORBIDDEN,
                format!("source address {who} is not in ingest.allowed_networks\n"),
            ));
        }
    }
    if let Some(expected) = &settings.token {
        match token {
            None | Some("") => {
                return Some((
                    StatusCode::UNAUTHORIZED,
                    "missing token: the outbound event URL needs ?token=<ingest token>\n".into(),
                ))
            }
            Some(t) if !constant_time_eq(t.as_bytes(), expected.expose().as_bytes()) => {
                return Some((
                    StatusCode::FORBIDDEN,
                    "wrong token in the outbound event URL\n".into(),
                ))
            }
            Some(_) => {}
        }
    }
    None
}

/// Axum middleware in front of `/ERSPost`.
pub async fn check(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(p)| *p);
    let token = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    if let Some((status, reason)) = refusal(&shared.config.ingest, peer, token.as_deref()) {
        tracing::warn!(peer = ?peer, status = status.as_u16(), reason = reason.trim_end(), "event refused");
        crate::metrics::refused(status.as_u16());
        return (status, reason).into_response();
    }
    // Read the (small) form body here, under the body timeout: a sender that stalls mid-body
    // gets a 408 instead of holding the connection.
    let (parts, body) = req.into_parts();
    let limit = crate::ingest::BODY_LIMIT;
    let bytes = match tokio::time::timeout(
        shared.config.ingest.body_timeout,
        axum::body::to_bytes(body, limit),
    )
    .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body larger than {limit} bytes or cut off\n"),
            )
                .into_response()
        }
        Err(_) => {
            crate::metrics::refused(408);
            return (
                StatusCode::REQUEST_TIMEOUT,
                "the event body did not arrive in time\n",
            )
                .into_response();
        }
    };
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}
