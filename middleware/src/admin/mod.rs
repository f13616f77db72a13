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
//! - [`configurations`]: add, copy, edit, enable/disable, delete configurations (forms and JSON).
//! - [`templates`]: the active comment templates and their previews.
//! - [`api`]: the same under `/api/` as JSON.

pub mod api;
pub mod auth;
pub mod configurations;
pub mod pages;
pub mod password;
pub mod templates;
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
    /// Host names requests may carry (see [`auth::host_allowed`]).
    pub hosts: auth::AllowedHosts,
}

impl AdminState {
    pub fn new(shared: Arc<Shared>, password: Secret) -> Arc<Self> {
        let hosts = auth::AllowedHosts::for_server(&shared.config.server);
        Arc::new(Self {
            shared,
            auth: auth::Auth::new(password),
            hosts,
        })
    }
}

/// Logs a warning when the admin listens beyond this machine: its pages and password then
/// travel in clear over the network unless a TLS reverse proxy fronts it.
pub fn warn_if_exposed(addr: std::net::SocketAddr) -> bool {
    let exposed = !addr.ip().is_loopback();
    if exposed {
        tracing::warn!(
            %addr,
            "admin_listen is not a loopback address: the admin UI is reachable from the network; \
             keep it on 127.0.0.1 or put a TLS reverse proxy in front of it"
        );
    }
    exposed
}

/// Form posts here are small (a password, a configuration); so are API bodies.
const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: Arc<AdminState>) -> Router {
    let protected = Router::new()
        .route("/", get(pages::dashboard))
        .route("/events", get(pages::events))
        .route("/events/{id}", get(pages::event))
        .route("/events/{id}/retry", post(pages::retry))
        .route("/events/retry-failed", post(pages::retry_failed))
        .route("/configurations/new", get(configurations::new_form))
        .route("/configurations", post(configurations::create))
        .route("/configurations/{name}", post(configurations::update))
        .route(
            "/configurations/{name}/edit",
            get(configurations::edit_form),
        )
        .route(
            "/configurations/{name}/copy",
            get(configurations::copy_form),
        )
        .route(
            "/configurations/{name}/enable",
            post(configurations::enable),
        )
        .route(
            "/configurations/{name}/disable",
            post(configurations::disable),
        )
        .route(
            "/configurations/{name}/delete",
            get(configurations::delete_confirm).post(configurations::delete),
        )
        .route("/configurations/{name}/test", post(pages::test_connection))
        .route("/templates", get(templates::page))
        .route("/api/templates", get(templates::api))
        .route("/logout", post(auth::logout))
        .route("/api/status", get(api::status))
        .route(
            "/api/configurations",
            get(configurations::api_list).post(configurations::api_create),
        )
        .route(
            "/api/configurations/{name}",
            get(configurations::api_get)
                .put(configurations::api_update)
                .delete(configurations::api_delete),
        )
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
        .fallback(pages::not_found)
        .layer(from_fn_with_state(state.clone(), auth::check_host))
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

#[cfg(test)]
#[test]
fn only_a_non_loopback_admin_address_warns() {
    assert!(!warn_if_exposed("127.0.0.1:53231".parse().unwrap()));
    assert!(!warn_if_exposed("[::1]:53231".parse().unwrap()));
    assert!(warn_if_exposed("0.0.0.0:53231".parse().unwrap()));
    assert!(warn_if_exposed("10.1.2.3:53231".parse().unwrap()));
}
#[cfg(test)]
mod tests_configurations;
