//! `GET|POST /api/command`: `get_api_info`, `generate_session_key`, `set_session_attributes`.
//!
//! Bad or missing parameters answer HTTP 200 with an `<error>` root, like the real appliance.

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;

use super::params::{serve_recorded, ApiRequest, Params};
use super::xml::{self, Doc};
use super::{oauth, random_hex, unix_now, Appliance, IssuedSessionKey};

/// Longest `session.custom.external_key` the appliance accepts (characters).
pub(crate) const MAX_EXTERNAL_KEY: usize = 1024;
/// Total size of all custom fields of a session (bytes).
pub(crate) const MAX_CUSTOM_FIELDS_BYTES: usize = 10 * 1024;
/// Session key lifetime when `ttl` is not given.
const DEFAULT_KEY_TTL: u64 = 7200;
/// API version `get_api_info` reports.
pub(crate) const API_VERSION: &str = "1.24.1";

pub(crate) fn xml_ok(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, xml::CONTENT_TYPE)],
        body,
    )
        .into_response()
}

pub(crate) async fn handle(
    State(appliance): State<Appliance>,
    method: Method,
    uri: OriginalUri,
    query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = ApiRequest {
        method,
        uri,
        query,
        headers,
        body,
    };
    serve_recorded(&appliance, request, "action", answer)
}

/// The answer to one authenticated-or-refused call.
fn answer(appliance: &Appliance, headers: &HeaderMap, params: &Params) -> Response {
    let ns = appliance.state().namespace.command();
    if let Err(denied) = oauth::authenticate(appliance, headers, params, ns) {
        return denied;
    }
    let result = match params.get("action") {
        None => Err("Missing required parameter: action.".to_string()),
        Some("get_api_info") => Ok(api_info(ns)),
        Some("generate_session_key") => generate_session_key(appliance, params, ns),
        Some("set_session_attributes") => set_session_attributes(appliance, params, ns),
        Some(other) => Err(format!("Invalid action: {other}.")),
    };
    xml_ok(result.unwrap_or_else(|message| xml::error_body(ns, &message)))
}

fn api_info(ns: &str) -> String {
    let mut doc = Doc::new();
    doc.open("api_information", &[("xmlns", ns)]);
    doc.text("api_version", &[], API_VERSION);
    doc.text("company_name", &[], "sandbox");
    doc.text("timestamp", &[], &unix_now().to_string());
    doc.open("permissions", &[]);
    doc.text("perm_backup", &[], "0");
    doc.text("perm_command", &[], "full_access");
    doc.text("perm_configuration", &[], "0");
    doc.text("perm_reporting_support", &[], "1");
    doc.text("perm_reporting_presentation", &[], "1");
    doc.close("permissions");
    doc.close("api_information");
    doc.finish()
}

/// `general | rep:ID | team:ID | rep_username:NAME | issue:CODE`.
pub(crate) fn valid_queue_id(queue_id: &str) -> bool {
    if queue_id == "general" {
        return true;
    }
    let Some((kind, value)) = queue_id.split_once(':') else {
        return false;
    };
    match kind {
        "rep" | "team" => !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()),
        "rep_username" | "issue" => !value.trim().is_empty(),
        _ => false,
    }
}

/// Length rules for `session.custom.*` fields.
pub(crate) fn check_custom_fields(params: &Params) -> Result<(), String> {
    if let Some(key) = params.get("session.custom.external_key") {
        if key.chars().count() > MAX_EXTERNAL_KEY {
            return Err(format!(
                "session.custom.external_key exceeds the maximum length of {MAX_EXTERNAL_KEY} characters."
            ));
        }
    }
    let total: usize = params
        .custom_fields()
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    if total > MAX_CUSTOM_FIELDS_BYTES {
        return Err("Custom session fields exceed the maximum total size of 10 KB.".to_string());
    }
    Ok(())
}

fn generate_session_key(
    appliance: &Appliance,
    params: &Params,
    ns: &str,
) -> Result<String, String> {
    match params.get("type") {
        None => return Err("Missing required parameter: type.".into()),
        Some("support") => {}
        Some(_) => return Err("Invalid type. The only supported type is support.".into()),
    }
    let queue_id = params
        .get("queue_id")
        .ok_or("Missing required parameter: queue_id.")?;
    if !valid_queue_id(queue_id) {
        return Err("Invalid queue_id.".into());
    }
    let ttl = match params.get("ttl") {
        None => DEFAULT_KEY_TTL,
        Some(ttl) => match ttl.parse::<u64>() {
            Ok(ttl) if ttl > 0 => ttl,
            _ => return Err("Invalid ttl. It must be a positive number of seconds.".into()),
        },
    };
    check_custom_fields(params)?;
    let short_key = format!("{:07}", rand::thread_rng().gen_range(0..10_000_000u32));
    let base = appliance.base_url();
    let key_url = format!("{base}/?ak={}", random_hex(32));
    let expires = unix_now() + ttl as i64;
    let external_key = params
        .get("session.custom.external_key")
        .map(str::to_string);
    appliance.state().session_keys.push(IssuedSessionKey {
        short_key: short_key.clone(),
        queue_id: queue_id.to_string(),
        external_key,
        expires,
    });
    let mut doc = Doc::new();
    doc.open("session_key", &[("type", "support"), ("xmlns", ns)]);
    doc.text("short_key", &[], &short_key);
    doc.text("key_url", &[], &key_url);
    doc.text("expires", &[], &expires.to_string());
    doc.text("mail_subject", &[], "Support Invitation");
    doc.text(
        "mail_body",
        &[],
        &format!(
            "Your representative would like to start a support session with you. \
             Click the link below, or go to {base} and enter the session key {short_key}.\n\n{key_url}"
        ),
    );
    doc.close("session_key");
    Ok(doc.finish())
}

fn set_session_attributes(
    appliance: &Appliance,
    params: &Params,
    ns: &str,
) -> Result<String, String> {
    let lsid = params
        .get("lsid")
        .ok_or("Missing required parameter: lsid.")?;
    let fields = params.custom_fields();
    if fields.is_empty() {
        return Err("No session attributes were given.".into());
    }
    check_custom_fields(params)?;
    let mut state = appliance.state();
    let session = state
        .sessions
        .iter_mut()
        .find(|s| s.lsid == lsid)
        .ok_or("Invalid lsid.")?;
    if session.end_time.is_some() {
        return Err("The session has ended; its attributes can no longer be set.".into());
    }
    for (code, value) in fields {
        if code == "external_key" {
            session.external_key = Some(value.to_string());
        } else if let Some(attr) = session.custom_attributes.iter_mut().find(|a| a.0 == code) {
            attr.2 = value.to_string();
        } else {
            session
                .custom_attributes
                .push((code.to_string(), code.to_string(), value.to_string()));
        }
    }
    drop(state);
    let mut doc = Doc::new();
    doc.text("success", &[("xmlns", ns)], "Session attributes were set.");
    Ok(doc.finish())
}
