//! `GET /api/client_script` (a BRCS file for the representative console) and
//! `GET /api/start_session` (the customer's session start page). Neither takes API
//! credentials; both validate their parameters (reference sections 6 and 7) and record valid
//! calls so tests can show what the console would have done.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::command::check_custom_fields;
use super::params::Params;
use super::Appliance;
use crate::recorded::asks_connection_close;

/// Longest `customer.name`, `customer.company`, `customer.company_code` (characters).
pub(crate) const MAX_CUSTOMER_FIELD: usize = 100;

/// The representative-console actions BeyondTrust's client scripting documentation lists (the
/// ones this product uses). `start_pinned_client_session` is deliberately absent: older public
/// code uses it, current documentation does not, so a real appliance may refuse it.
pub(crate) const ACTIONS: [&str; 6] = [
    "generate_session_key",
    "start_jump_item_session",
    "push_and_start_local",
    "push_and_start_remote",
    "start_rdp_session",
    "start_shell_jump_session",
];

/// `jump.method` values of `start_jump_item_session`, as documented.
pub(crate) const JUMP_METHODS: [&str; 6] =
    ["push", "local_push", "pinned", "rdp", "vnc", "shelljump"];

/// The documented Jump Item filters that may stand in for `search_string`.
const JUMP_ITEM_FILTERS: [&str; 5] = [
    "client.hostname",
    "client.tag",
    "client.comments",
    "client.private_ip",
    "client.public_ip",
];

fn error_page(message: &str) -> Response {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!DOCTYPE html>\n<html><head><title>Error</title></head><body><h1>Error</h1><p>{escaped}</p></body></html>\n"
        )),
    )
        .into_response()
}

fn require<'a>(params: &'a Params, name: &str) -> Result<&'a str, String> {
    params
        .non_empty(name)
        .ok_or_else(|| format!("Missing required parameter: {name}."))
}

fn one_of(params: &Params, name: &str, allowed: &[&str]) -> Result<(), String> {
    match params.get(name) {
        Some(v) if !allowed.contains(&v) => Err(format!("Invalid {name}: {v}.")),
        _ => Ok(()),
    }
}

/// Validates one client script call; the error is the message for the error page.
pub(crate) fn validate_client_script(params: &Params) -> Result<String, String> {
    if params.get("type") != Some("rep") {
        return Err("Invalid or missing parameter: type (must be rep).".into());
    }
    if params.get("operation") != Some("generate") {
        return Err("Invalid or missing parameter: operation (must be generate).".into());
    }
    let action = require(params, "action")?;
    if !ACTIONS.contains(&action) {
        return Err(format!("Invalid action: {action}."));
    }
    check_custom_fields(params)?;
    match action {
        "generate_session_key" => {}
        "start_jump_item_session" => {
            require(params, "jump.method")?;
            one_of(params, "jump.method", &JUMP_METHODS)?;
            let has_criteria = params.non_empty("search_string").is_some()
                || params
                    .0
                    .iter()
                    .any(|(k, v)| JUMP_ITEM_FILTERS.contains(&k.as_str()) && !v.trim().is_empty());
            if !has_criteria {
                return Err(
                    "Missing required parameter: search_string or a client.* filter.".into(),
                );
            }
        }
        "push_and_start_local" => {
            require(params, "hostname")?;
        }
        "push_and_start_remote" | "start_rdp_session" | "start_shell_jump_session" => {
            require(params, "target")?;
            require(params, "jumpoint")?;
        }
        _ => {}
    }
    if action == "start_rdp_session" {
        one_of(params, "console", &["0", "1"])?;
    }
    if action == "start_shell_jump_session" {
        one_of(params, "protocol", &["ssh", "telnet"])?;
        one_of(params, "terminal", &["xterm", "vt100"])?;
        if let Some(port) = params.get("port") {
            if !matches!(port.parse::<u16>(), Ok(p) if p > 0) {
                return Err(format!("Invalid port: {port}."));
            }
        }
    }
    Ok(action.to_string())
}

/// A small BRCS-like script the representative console would run.
fn brcs(action: &str, params: &Params) -> String {
    let mut script =
        format!("# BeyondTrust representative console script (sandbox)\naction {action}\n");
    for (k, v) in &params.0 {
        if !matches!(k.as_str(), "type" | "operation" | "action") {
            script.push_str(&format!("set {k} {v}\n"));
        }
    }
    script
}

/// Every answer forbids framing by other origins, as appliance pages do: a client script is
/// meant to be opened as a download in its own browsing context, never inside a frame.
const FRAME_OPTIONS: (header::HeaderName, &str) = (header::X_FRAME_OPTIONS, "SAMEORIGIN");

pub(crate) async fn client_script(
    State(appliance): State<Appliance>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(&method, query.as_deref(), &headers, &[]);
    let checked = validate_client_script(&params);
    // Every call is recorded (refused ones with their 400), so a test can tell "never arrived"
    // from "arrived and was refused".
    let (action, status) = match &checked {
        Ok(action) => (Some(action.as_str()), 200),
        Err(_) => (params.get("action"), 400),
    };
    let record = params.record(
        &method,
        "/api/client_script",
        action,
        status,
        asks_connection_close(&headers),
    );
    appliance.state().client_scripts.push(record);
    let action = match checked {
        Ok(action) => action,
        Err(message) => {
            let mut page = error_page(&message);
            page.headers_mut().insert(
                FRAME_OPTIONS.0,
                header::HeaderValue::from_static(FRAME_OPTIONS.1),
            );
            return page;
        }
    };
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "application/x-bomgar-rep-script".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"bomgar-rcs-{action}.brcs\""),
            ),
            (FRAME_OPTIONS.0, FRAME_OPTIONS.1.to_string()),
        ],
        brcs(&action, &params),
    )
        .into_response()
}

/// Validates one start_session call.
pub(crate) fn validate_start_session(params: &Params) -> Result<(), String> {
    one_of(params, "issue_menu", &["1"])?;
    one_of(params, "c2cjs", &["0", "1"])?;
    if params.get("issue_menu") == Some("1") {
        require(params, "codeName")?;
    }
    for name in ["customer.name", "customer.company", "customer.company_code"] {
        if let Some(v) = params.get(name) {
            if v.chars().count() > MAX_CUSTOMER_FIELD {
                return Err(format!(
                    "{name} exceeds the maximum length of {MAX_CUSTOMER_FIELD} characters."
                ));
            }
        }
    }
    check_custom_fields(params)
}

pub(crate) async fn start_session(
    State(appliance): State<Appliance>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(&method, query.as_deref(), &headers, &[]);
    if let Err(message) = validate_start_session(&params) {
        return error_page(&message);
    }
    let chat = params.get("c2cjs") == Some("1");
    appliance.state().start_sessions.push(params.record(
        &method,
        "/api/start_session",
        params.get("codeName"),
        200,
        asks_connection_close(&headers),
    ));
    let mode = if chat {
        "click-to-chat in the browser"
    } else {
        "the customer client download"
    };
    Html(format!(
        "<!DOCTYPE html>\n<html><head><title>Support session</title></head>\
         <body><h1>Your support session is starting</h1><p>Starting with {mode}. Please wait for a representative.</p></body></html>\n"
    ))
    .into_response()
}
