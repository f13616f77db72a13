//! The admin UI and JSON API on `[server] admin_listen` (default `127.0.0.1:53231`).
//!
//! Service-desk admins use it to see that every session report landed: counts by status, the
//! configurations (never their secrets) with the Outbound Event URL to paste into the appliance
//! and a connection test, recent events with every attempt's error, a Retry button per event and
//! Retry all failed.
//!
//! - [`password`]: where the admin password comes from (env or a private generated file).
//! - [`auth`]: login sessions, HTTP Basic for scripts, CSRF (same-origin) checks, slow guessing.
//! - [`view`]: what both faces show (counts, configurations, event rows), secret-free.
//! - [`pages`]: server-rendered HTML, every outside value escaped.
//! - [`api`]: the same under `/api/` as JSON.

pub mod api;
pub mod auth;
pub mod pages;
pub mod password;
pub mod view;

use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

use crate::app::Shared;
use crate::secret::Secret;

/// State of the admin listener.
pub struct AdminState {
    pub shared: Arc<Shared>,
    pub auth: auth::Auth,
}

impl AdminState {
    pub fn new(shared: Arc<Shared>, password: Secret) -> Arc<Self> {
        Arc::new(Self {
            shared,
            auth: auth::Auth::new(password),
        })
    }
}

/// Form posts here are tiny (a password); API posts have no body.
const BODY_LIMIT: usize = 8 * 1024;

pub fn router(state: Arc<AdminState>) -> Router {
    let protected = Router::new()
        .route("/", get(pages::dashboard))
        .route("/events", get(pages::events))
        .route("/events/{id}", get(pages::event))
        .route("/events/{id}/retry", post(pages::retry))
        .route("/events/retry-failed", post(pages::retry_failed))
        .route("/configurations/{name}/test", post(pages::test_connection))
        .route("/logout", post(auth::logout))
        .route("/api/status", get(api::status))
        .route("/api/configurations", get(api::configurations))
        .route(
            "/api/configurations/{name}/test",
            post(api::test_connection),
        )
        .route("/api/events", get(api::events))
        .route("/api/events/{id}", get(api::event))
        .route("/api/events/{id}/retry", post(api::retry))
        .route("/api/events/retry-failed", post(api::retry_failed))
        .route_layer(from_fn_with_state(state.clone(), auth::require));
    Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .merge(protected)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(hardening_headers))
        .with_state(state)
}

/// Defence in depth: pages run no script and load nothing, are never framed or cached, and
/// posts carry a same-origin Referer for the CSRF check.
async fn hardening_headers(mut r: axum::response::Response) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests;
