//! Adding, copying, editing, enabling/disabling and deleting configurations, as JSON under
//! `/api/configurations` and as forms under `/configurations`. Every change is stored (see
//! [`crate::config_store`]) and then applied at once by reloading the running clients; workers,
//! ingest and pollers read the new set on their next step, without a restart.

use std::fmt::Write;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::pages::{esc, layout, segment};
use super::view::{self, ConfigurationView};
use super::AdminState;
use crate::app::Shared;
use crate::config::{PROCESSABLE_EVENTS, SESSION_END};
use crate::config_store::{public_doc, ConfigStoreError, FieldErrors, Stored};

/// A stored configuration as the admin shows it: never a secret.
#[derive(Debug, Serialize)]
pub struct ConfigurationEntry {
    /// Only when not valid (otherwise the flattened summary carries it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether it validates and its clients run (an `*_env` variable may have gone away).
    pub valid: bool,
    pub problem: Option<String>,
    /// The summary the dashboard shows, flattened in (absent when not valid).
    #[serde(flatten)]
    pub summary: Option<ConfigurationView>,
    /// Every key of the TOML configuration; secrets replaced by `*_set: true`.
    pub settings: Value,
}

fn entry(shared: &Shared, s: &Stored) -> ConfigurationEntry {
    ConfigurationEntry {
        name: s.parsed.is_err().then(|| s.name.clone()),
        valid: s.parsed.is_ok(),
        problem: s.parsed.as_ref().err().cloned(),
        summary: s
            .parsed
            .as_ref()
            .ok()
            .map(|c| view::configuration(&shared.config.server, c)),
        settings: public_doc(s),
    }
}

/// Stores a change's outcome and applies it to the running middleware.
async fn applied<T>(
    shared: &Shared,
    r: Result<T, ConfigStoreError>,
) -> Result<T, ConfigStoreError> {
    let v = r?;
    shared.reload_configurations().await?;
    Ok(v)
}

fn api_error(e: ConfigStoreError) -> Response {
    match e {
        ConfigStoreError::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "errors": errors })),
        )
            .into_response(),
        ConfigStoreError::NotFound(_) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such configuration" })),
        )
            .into_response(),
        ConfigStoreError::Store(e) => {
            tracing::error!(error = %e, "admin api: configuration store failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "the database could not be used; see the middleware log" })),
            )
                .into_response()
        }
    }
}

/// The body as a JSON object; the error is the answer to send.
fn json_body(body: &Bytes) -> Result<Value, Box<Response>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Box::new(api_error(ConfigStoreError::Invalid(
            FieldErrors::from([(String::new(), "expected a JSON object".to_string())]),
        )))),
        Err(e) => Err(Box::new(
            (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": format!("the body is not JSON: {e}") })),
            )
                .into_response(),
        )),
    }
}

async fn stored_entry(shared: &Shared, name: &str) -> Response {
    match shared.config_store().get(name).await {
        Ok(s) => Json(entry(shared, &s)).into_response(),
        Err(e) => api_error(e),
    }
}

/// `GET /api/configurations`
pub async fn api_list(State(state): State<Arc<AdminState>>) -> Response {
    match state.shared.config_store().load().await {
        Ok((_, all)) => Json(
            all.iter()
                .map(|s| entry(&state.shared, s))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => api_error(e),
    }
}

/// `GET /api/configurations/{name}`
pub async fn api_get(State(state): State<Arc<AdminState>>, Path(name): Path<String>) -> Response {
    stored_entry(&state.shared, &name).await
}

/// `POST /api/configurations`: the TOML configuration's keys as JSON; `copy_from` (optional)
/// names a configuration whose secrets fill the ones left out.
pub async fn api_create(State(state): State<Arc<AdminState>>, body: Bytes) -> Response {
    let mut doc = match json_body(&body) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let copy_from = match doc.as_object_mut().and_then(|m| m.remove("copy_from")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return api_error(ConfigStoreError::Invalid(FieldErrors::from([(
                "copy_from".to_string(),
                "must be a configuration name".to_string(),
            )])))
        }
    };
    let shared = &state.shared;
    match applied(
        shared,
        shared
            .config_store()
            .create(doc, copy_from.as_deref())
            .await,
    )
    .await
    {
        Ok(c) => {
            tracing::info!(configuration = %c.name, "configuration added in the admin");
            let mut r = stored_entry(shared, &c.name).await;
            *r.status_mut() = StatusCode::CREATED;
            r
        }
        Err(e) => api_error(e),
    }
}

/// `PUT /api/configurations/{name}`: the whole configuration; secrets left out are kept.
pub async fn api_update(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let doc = match json_body(&body) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let shared = &state.shared;
    match applied(shared, shared.config_store().update(&name, doc).await).await {
        Ok(c) => {
            tracing::info!(configuration = %c.name, "configuration changed in the admin");
            stored_entry(shared, &c.name).await
        }
        Err(e) => api_error(e),
    }
}

/// `DELETE /api/configurations/{name}`
pub async fn api_delete(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
) -> Response {
    let shared = &state.shared;
    match applied(shared, shared.config_store().delete(&name).await).await {
        Ok(()) => {
            tracing::info!(configuration = %name, "configuration deleted in the admin");
            Json(json!({ "deleted": name })).into_response()
        }
        Err(e) => api_error(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Forms.

/// The form's fields: (path, label, kind, help).
enum Kind {
    Text,
    Secret,
    Number,
    Check,
    Events(&'static [&'static str]),
    Unit,
    Auth,
    List,
    /// One of the given values (a select).
    Choice(&'static [&'static str]),
    /// A JSON value typed in a text area (survey rules: a list of objects).
    Json,
}

const FIELDS: &[(&str, &str, Kind, &str)] = &[
    ("name", "Name", Kind::Text, "Shown in the admin; events refer to it, so it cannot be changed later."),
    ("appliance_id", "Appliance id", Kind::Text, "Letters, digits, '.' and '_'; \"default\" for the appliance posting to /ERSPost without ?appliance="),
    ("disabled", "Disabled", Kind::Check, "A disabled configuration refuses its events and does not poll."),
    ("beyondtrust.host", "Appliance host", Kind::Text, "host or host:port, e.g. support.example.com"),
    ("auth", "API account", Kind::Auth, ""),
    ("beyondtrust.client_id", "OAuth client id", Kind::Text, "From /login > Management > API Configuration."),
    ("beyondtrust.client_secret", "OAuth client secret", Kind::Secret, ""),
    ("beyondtrust.username", "Legacy user name", Kind::Text, "Only for appliances without OAuth API accounts."),
    ("beyondtrust.password", "Legacy password", Kind::Secret, ""),
    ("beyondtrust.locale", "Report locale", Kind::Text, "e.g. en-us"),
    ("beyondtrust.allow_invalid_certificates", "Allow invalid certificates", Kind::Check, "Only for test appliances with self-signed certificates."),
    ("beyondtrust.use_non_tls", "Use plain HTTP (non-TLS)", Kind::Check, "Legacy accounts only."),
    ("beyondtrust.ca_file", "CA certificate file", Kind::Text, "Optional: PEM file of the internal CA that signed the appliance's certificate (instead of allowing invalid certificates)."),
    ("beyondtrust.outbound_event_types", "Outbound event types", Kind::Events(&PROCESSABLE_EVENTS), ""),
    ("beyondtrust.polling_event_types", "Polling event types", Kind::Events(&[SESSION_END]), "Poll the session listing when the appliance cannot reach the middleware."),
    ("beyondtrust.polling_interval_secs", "Polling interval (seconds)", Kind::Number, ""),
    ("beyondtrust.retry_for_hours", "Retry for (hours)", Kind::Number, "How long failed deliveries are retried (capped exponential backoff)."),
    ("beyondtrust.retry_attempt_limit", "Retry attempt limit", Kind::Number, "Optional: also stop after this many attempts."),
    ("beyondtrust.retry_outbound_event_types", "Retry outbound event types", Kind::Events(&PROCESSABLE_EVENTS), ""),
    ("beyondtrust.retry_polling_event_types", "Retry polling event types", Kind::Events(&[SESSION_END]), ""),
    ("zendesk.url", "Zendesk URL", Kind::Text, "https://SUBDOMAIN.zendesk.com"),
    ("zendesk.username", "Zendesk user (email)", Kind::Text, ""),
    ("zendesk.token", "Zendesk API token", Kind::Secret, ""),
    ("zendesk.tags", "Tags", Kind::List, "Comma-separated; added to the ticket with each session comment."),
    ("zendesk.duration_field_id", "Duration field id", Kind::Number, "Numeric ticket field for the session duration (optional)."),
    ("zendesk.duration_field_unit", "Duration unit", Kind::Unit, ""),
    ("zendesk.update_rate_per_minute", "Ticket updates per minute", Kind::Number, ""),
    ("zendesk.system_information_categories", "System Information categories in the comment", Kind::List, "Comma-separated, case-insensitive; the full report is attached when it does not fit."),
    ("zendesk.comment_max_chars", "Comment size budget (characters)", Kind::Number, "10,000 to 65,535; Zendesk refuses comments over about 65,000."),
    ("zendesk.unassociated_sessions", "Sessions without a ticket", Kind::Choice(&["record", "create_ticket"]), "record: kept as unassociated; create_ticket: a new ticket with the report as its first private comment."),
    ("zendesk.default_requester_email", "Default requester e-mail", Kind::Text, "Requester of created tickets when the session carries no e-mail (required with create_ticket)."),
    ("zendesk.requester_email_attribute", "Requester e-mail attribute", Kind::Text, "Session custom attribute holding the customer's e-mail (default \"email\")."),
    ("zendesk.new_ticket_group_id", "New ticket group id", Kind::Number, "Optional."),
    ("zendesk.new_ticket_brand_id", "New ticket brand id", Kind::Number, "Optional."),
    ("zendesk.new_ticket_tags", "New ticket tags", Kind::List, "Comma-separated; set on created tickets."),
    ("zendesk.survey_rules", "Survey rules", Kind::Json, "JSON list, e.g. [{\"question\": \"Was your issue resolved?\", \"answer\": \"Yes\", \"status\": \"solved\", \"tags\": [\"fixed\"]}]; applied in the survey comment's own update, never to a closed ticket."),
];

fn get<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |v, k| v.get(k))
}

fn set(doc: &mut Value, path: &str, value: Value) {
    let mut cur = doc;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        if !cur.get(*p).is_some_and(Value::is_object) {
            cur[*p] = Value::Object(Map::new());
        }
        cur = &mut cur[*p];
    }
    cur[parts[parts.len() - 1]] = value;
}

/// Turns the posted form into a configuration document; fields that are not even numbers are
/// reported here.
fn form_to_doc(form: &[(String, String)]) -> (Value, FieldErrors, Option<String>) {
    let mut doc = json!({"beyondtrust": {}, "zendesk": {}});
    let mut errors = FieldErrors::new();
    let value = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let legacy = value("auth") == "legacy";
    for (path, _, kind, _) in FIELDS {
        let v = value(path);
        match kind {
            Kind::Auth => {}
            Kind::Text | Kind::Secret => {
                let oauth_only = path.ends_with("client_id") || path.ends_with("client_secret");
                let legacy_only = *path == "beyondtrust.username" || path.ends_with(".password");
                if (oauth_only && legacy) || (legacy_only && !legacy) {
                    continue;
                }
                let optional = matches!(kind, Kind::Secret)
                    || matches!(
                        *path,
                        "beyondtrust.locale"
                            | "beyondtrust.ca_file"
                            | "zendesk.default_requester_email"
                            | "zendesk.requester_email_attribute"
                    );
                if !(optional && v.is_empty()) {
                    set(&mut doc, path, json!(v));
                }
            }
            Kind::Number => {
                if v.is_empty() {
                    if !matches!(
                        *path,
                        "zendesk.duration_field_id"
                            | "beyondtrust.retry_attempt_limit"
                            | "beyondtrust.retry_for_hours"
                            | "zendesk.comment_max_chars"
                            | "zendesk.new_ticket_group_id"
                            | "zendesk.new_ticket_brand_id"
                    ) {
                        errors.insert(path.to_string(), "is required".into());
                    }
                } else if let Ok(n) = v.parse::<u64>() {
                    set(&mut doc, path, json!(n));
                } else {
                    errors.insert(path.to_string(), "must be a whole number".into());
                }
            }
            Kind::Check => set(&mut doc, path, json!(form.iter().any(|(n, _)| n == path))),
            Kind::Events(_) => {
                let list: Vec<&str> = form
                    .iter()
                    .filter(|(n, _)| n == path)
                    .map(|(_, v)| v.as_str())
                    .collect();
                set(&mut doc, path, json!(list));
            }
            Kind::List => {
                let list: Vec<&str> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                set(&mut doc, path, json!(list));
            }
            Kind::Unit => set(
                &mut doc,
                path,
                json!(if v.is_empty() { "seconds" } else { &v }),
            ),
            Kind::Choice(values) => {
                if !v.is_empty() {
                    set(&mut doc, path, json!(v));
                } else if let Some(first) = values.first() {
                    set(&mut doc, path, json!(first));
                }
            }
            Kind::Json => {
                if v.is_empty() {
                    set(&mut doc, path, json!([]));
                } else {
                    match serde_json::from_str::<Value>(&v) {
                        Ok(parsed) => set(&mut doc, path, parsed),
                        Err(e) => {
                            errors.insert(path.to_string(), format!("is not valid JSON: {e}"));
                        }
                    }
                }
            }
        }
    }
    let copy_from = Some(value("copy_from")).filter(|s| !s.is_empty());
    (doc, errors, copy_from)
}

/// Defaults of a new configuration (the file's defaults).
fn new_doc() -> Value {
    json!({
        "name": "", "appliance_id": "", "disabled": false,
        "beyondtrust": {
            "host": "", "client_id": "", "locale": "en-us",
            "outbound_event_types": PROCESSABLE_EVENTS, "polling_event_types": [],
            "polling_interval_secs": 60, "retry_for_hours": 24,
            "retry_outbound_event_types": PROCESSABLE_EVENTS, "retry_polling_event_types": [SESSION_END],
        },
        "zendesk": {
            "url": "", "username": "", "tags": [], "duration_field_unit": "seconds", "update_rate_per_minute": 100,
            "system_information_categories": crate::config::DEFAULT_SYSINFO_CATEGORIES,
            "comment_max_chars": crate::config::DEFAULT_COMMENT_MAX_CHARS,
            "unassociated_sessions": "record", "requester_email_attribute": "email",
            "new_ticket_tags": [], "survey_rules": [],
        },
    })
}

enum Mode<'a> {
    New,
    Copy(&'a str),
    Edit(&'a str),
}

fn form_page(status: StatusCode, mode: Mode, doc: &Value, errors: &FieldErrors) -> Response {
    let (title, action, hidden) = match &mode {
        Mode::New => (
            "Add configuration".to_string(),
            "/configurations".to_string(),
            String::new(),
        ),
        Mode::Copy(from) => (
            format!("Copy configuration {from}"),
            "/configurations".to_string(),
            format!(
                "<input type=\"hidden\" name=\"copy_from\" value=\"{}\">",
                esc(from)
            ),
        ),
        Mode::Edit(name) => (
            format!("Edit configuration {name}"),
            format!("/configurations/{}", segment(name)),
            String::new(),
        ),
    };
    let mut body = format!("<h2>{}</h2>", esc(&title));
    if !errors.is_empty() {
        body.push_str("<div class=\"card bad\" role=\"alert\"><b>Not saved:</b><ul>");
        for (k, v) in errors {
            let label = FIELDS.iter().find(|f| f.0 == k).map_or(k.as_str(), |f| f.1);
            let _ = write!(body, "<li>{}: {}</li>", esc(label), esc(v));
        }
        body.push_str("</ul></div>");
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{}\" class=\"card configform\">{hidden}",
        esc(&action)
    );
    let legacy = get(doc, "beyondtrust.username")
        .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        && get(doc, "beyondtrust.client_id").is_none_or(|v| v.as_str().is_none_or(str::is_empty));
    for (path, label, kind, help) in FIELDS {
        let id = path.replace('.', "-");
        let err = errors
            .get(*path)
            .map(|m| {
                format!(
                    "<span class=\"bad field-error\" data-field=\"{}\">{}</span>",
                    esc(path),
                    esc(m)
                )
            })
            .unwrap_or_default();
        let help = if help.is_empty() {
            String::new()
        } else {
            format!("<span class=\"muted\">{}</span>", esc(help))
        };
        let current = get(doc, path);
        let input = match kind {
            Kind::Text => {
                let readonly = if *path == "name" && matches!(mode, Mode::Edit(_)) { " readonly" } else { "" };
                format!(
                    "<input type=\"text\" id=\"{id}\" name=\"{path}\" value=\"{}\"{readonly}>",
                    esc(current.and_then(Value::as_str).unwrap_or(""))
                )
            }
            Kind::Secret => {
                let (section, key) = path.split_once('.').unwrap_or(("", path));
                let is_set = get(doc, &format!("{section}.{key}_set")).is_some_and(|v| v == true);
                let env = get(doc, &format!("{section}.{key}_env")).and_then(Value::as_str);
                let placeholder = match (env, is_set, &mode) {
                    (Some(var), _, _) => format!("from environment variable {var}; leave empty to keep"),
                    (None, true, _) => "set — leave empty to keep".to_string(),
                    (None, false, Mode::Copy(_)) => "leave empty to copy the original's".to_string(),
                    _ => String::new(),
                };
                format!(
                    "<input type=\"password\" id=\"{id}\" name=\"{path}\" value=\"\" autocomplete=\"new-password\" placeholder=\"{}\">",
                    esc(&placeholder)
                )
            }
            Kind::Number => format!(
                "<input type=\"text\" inputmode=\"numeric\" id=\"{id}\" name=\"{path}\" value=\"{}\">",
                current.map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    v => v.to_string(),
                }).map(|s| esc(&s)).unwrap_or_default()
            ),
            Kind::Check => format!(
                "<input type=\"checkbox\" id=\"{id}\" name=\"{path}\" value=\"true\"{}>",
                if current.is_some_and(|v| v == true) { " checked" } else { "" }
            ),
            Kind::Events(allowed) => {
                let mut s = String::new();
                for e in *allowed {
                    let on = current
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|x| x == e));
                    let _ = write!(
                        s,
                        "<label class=\"check\"><input type=\"checkbox\" name=\"{path}\" value=\"{e}\"{}> {e}</label>",
                        if on { " checked" } else { "" }
                    );
                }
                s
            }
            Kind::List => format!(
                "<input type=\"text\" id=\"{id}\" name=\"{path}\" value=\"{}\">",
                esc(&current
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default())
            ),
            Kind::Unit => {
                let cur = current.and_then(Value::as_str).unwrap_or("seconds");
                format!(
                    "<select id=\"{id}\" name=\"{path}\"><option value=\"seconds\"{}>seconds</option><option value=\"minutes\"{}>minutes</option></select>",
                    if cur == "seconds" { " selected" } else { "" },
                    if cur == "minutes" { " selected" } else { "" }
                )
            }
            Kind::Choice(values) => {
                let cur = current.and_then(Value::as_str).or(values.first().copied()).unwrap_or("");
                let mut s = format!("<select id=\"{id}\" name=\"{path}\">");
                for v in *values {
                    let _ = write!(
                        s,
                        "<option value=\"{v}\"{}>{v}</option>",
                        if cur == *v { " selected" } else { "" }
                    );
                }
                s.push_str("</select>");
                s
            }
            Kind::Json => format!(
                "<textarea id=\"{id}\" name=\"{path}\" rows=\"3\" cols=\"70\">{}</textarea>",
                esc(&match current {
                    None => String::new(),
                    Some(Value::Array(a)) if a.is_empty() => String::new(),
                    Some(v) => v.to_string(),
                })
            ),
            Kind::Auth => format!(
                "<select id=\"auth\" name=\"auth\"><option value=\"oauth\"{}>OAuth API account (client id and secret)</option>\
                 <option value=\"legacy\"{}>Legacy user name and password</option></select>",
                if legacy { "" } else { " selected" },
                if legacy { " selected" } else { "" }
            ),
        };
        let _ = write!(
            body,
            "<div class=\"field\"><label for=\"{id}\">{}</label><div>{input} {err}<br>{help}</div></div>",
            esc(label)
        );
    }
    body.push_str("<p><button type=\"submit\">Save</button> <a href=\"/\">Cancel</a></p></form>");
    (status, Html(layout(&title, &body, true))).into_response()
}

fn store_failure(e: ConfigStoreError) -> Response {
    tracing::error!(error = %e, "admin: configuration store failed");
    super::pages::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "The database could not be used; see the middleware log.",
    )
}

fn not_found() -> Response {
    super::pages::error_page(
        StatusCode::NOT_FOUND,
        "Configuration",
        "No such configuration.",
    )
}

/// `GET /configurations/new`
pub async fn new_form() -> Response {
    form_page(StatusCode::OK, Mode::New, &new_doc(), &FieldErrors::new())
}

/// `GET /configurations/{name}/edit`
pub async fn edit_form(State(state): State<Arc<AdminState>>, Path(name): Path<String>) -> Response {
    match state.shared.config_store().get(&name).await {
        Ok(s) => form_page(
            StatusCode::OK,
            Mode::Edit(&name),
            &public_doc(&s),
            &FieldErrors::new(),
        ),
        Err(ConfigStoreError::NotFound(_)) => not_found(),
        Err(e) => store_failure(e),
    }
}

/// `GET /configurations/{name}/copy`: the form filled with a copy (secrets copied on save).
pub async fn copy_form(State(state): State<Arc<AdminState>>, Path(name): Path<String>) -> Response {
    match state.shared.config_store().get(&name).await {
        Ok(s) => {
            let mut doc = public_doc(&s);
            doc["name"] = json!(format!("{name} copy"));
            doc["disabled"] = json!(true);
            form_page(StatusCode::OK, Mode::Copy(&name), &doc, &FieldErrors::new())
        }
        Err(ConfigStoreError::NotFound(_)) => not_found(),
        Err(e) => store_failure(e),
    }
}

fn after_save(
    e: ConfigStoreError,
    mode: Mode,
    doc: &Value,
    mut form_errors: FieldErrors,
) -> Response {
    match e {
        ConfigStoreError::Invalid(errors) => {
            form_errors.extend(errors);
            form_page(StatusCode::UNPROCESSABLE_ENTITY, mode, doc, &form_errors)
        }
        ConfigStoreError::NotFound(_) => not_found(),
        e => store_failure(e),
    }
}

/// `POST /configurations`
pub async fn create(
    State(state): State<Arc<AdminState>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (doc, errors, copy_from) = form_to_doc(&form);
    let mode = match &copy_from {
        Some(f) => Mode::Copy(f),
        None => Mode::New,
    };
    if !errors.is_empty() {
        return form_page(StatusCode::UNPROCESSABLE_ENTITY, mode, &doc, &errors);
    }
    let shared = &state.shared;
    match applied(
        shared,
        shared
            .config_store()
            .create(doc.clone(), copy_from.as_deref())
            .await,
    )
    .await
    {
        Ok(c) => {
            tracing::info!(configuration = %c.name, "configuration added in the admin");
            Redirect::to(&format!("/?saved={}", segment(&c.name))).into_response()
        }
        Err(e) => after_save(e, mode, &doc, errors),
    }
}

/// `POST /configurations/{name}`: saves the edit form.
pub async fn update(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (mut doc, errors, _) = form_to_doc(&form);
    doc["name"] = json!(name);
    let shared = &state.shared;
    if !errors.is_empty() {
        return form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            Mode::Edit(&name),
            &doc,
            &errors,
        );
    }
    match applied(
        shared,
        shared.config_store().update(&name, doc.clone()).await,
    )
    .await
    {
        Ok(c) => {
            tracing::info!(configuration = %c.name, "configuration changed in the admin");
            Redirect::to(&format!("/?saved={}", segment(&c.name))).into_response()
        }
        Err(e) => {
            // Show "set" for secrets that are kept.
            let shown = match shared.config_store().get(&name).await {
                Ok(s) => {
                    let mut d = doc.clone();
                    let old = public_doc(&s);
                    for k in [
                        "beyondtrust.client_secret_set",
                        "beyondtrust.password_set",
                        "zendesk.token_set",
                        "beyondtrust.client_secret_env",
                        "beyondtrust.password_env",
                        "zendesk.token_env",
                    ] {
                        if let Some(v) = get(&old, k) {
                            set(&mut d, k, v.clone());
                        }
                    }
                    d
                }
                Err(_) => doc.clone(),
            };
            after_save(e, Mode::Edit(&name), &shown, errors)
        }
    }
}

/// `POST /configurations/{name}/enable` and `/disable`
pub async fn enable(state: State<Arc<AdminState>>, name: Path<String>) -> Response {
    set_disabled(state, name, false).await
}

pub async fn disable(state: State<Arc<AdminState>>, name: Path<String>) -> Response {
    set_disabled(state, name, true).await
}

async fn set_disabled(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
    disabled: bool,
) -> Response {
    let shared = &state.shared;
    match applied(
        shared,
        shared.config_store().set_disabled(&name, disabled).await,
    )
    .await
    {
        Ok(_) => Redirect::to("/").into_response(),
        Err(ConfigStoreError::Invalid(errors)) => super::pages::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Configuration",
            &format!(
                "{name} cannot be {}: {}",
                if disabled { "disabled" } else { "enabled" },
                errors.values().cloned().collect::<Vec<_>>().join("; ")
            ),
        ),
        Err(ConfigStoreError::NotFound(_)) => not_found(),
        Err(e) => store_failure(e),
    }
}

/// `GET /configurations/{name}/delete`: asks first (pages run no script, so no confirm()).
pub async fn delete_confirm(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
) -> Response {
    match state.shared.config_store().get(&name).await {
        Ok(_) => {
            let body = format!(
                "<h2>Delete configuration {n}?</h2><div class=\"card\"><p>Events of appliance id it receives will be refused \
                 and stored events of it can no longer be processed.</p>\
                 <form method=\"post\" action=\"/configurations/{seg}/delete\"><button class=\"danger\">Delete {n}</button> \
                 <a href=\"/\">Cancel</a></form></div>",
                n = esc(&name),
                seg = esc(&segment(&name)),
            );
            (
                StatusCode::OK,
                Html(layout("Delete configuration", &body, true)),
            )
                .into_response()
        }
        Err(ConfigStoreError::NotFound(_)) => not_found(),
        Err(e) => store_failure(e),
    }
}

/// `POST /configurations/{name}/delete`
pub async fn delete(State(state): State<Arc<AdminState>>, Path(name): Path<String>) -> Response {
    let shared = &state.shared;
    match applied(shared, shared.config_store().delete(&name).await).await {
        Ok(()) => {
            tracing::info!(configuration = %name, "configuration deleted in the admin");
            Redirect::to("/").into_response()
        }
        Err(ConfigStoreError::NotFound(_)) => not_found(),
        Err(e) => store_failure(e),
    }
}

/// The dashboard's configurations: stored ones, with their actions.
pub async fn cards(shared: &Shared) -> Result<String, ConfigStoreError> {
    let (_, all) = shared.config_store().load().await?;
    let mut body = String::from(
        "<p><a class=\"button\" href=\"/configurations/new\" id=\"add-configuration\">Add configuration</a></p>",
    );
    if all.is_empty() {
        body.push_str(
            "<div class=\"card\">No configurations yet: add one for each appliance.</div>",
        );
    }
    for s in &all {
        let seg = esc(&segment(&s.name));
        let Ok(c) = &s.parsed else {
            let _ = write!(
                body,
                "<div class=\"card config\" data-name=\"{n}\"><h2>{n} <span class=\"bad\">(not usable)</span></h2><p class=\"bad\">{why}</p>\
                 <p><a href=\"/configurations/{seg}/edit\">Edit</a></p></div>",
                n = esc(&s.name),
                why = esc(s.parsed.as_ref().err().map_or("", String::as_str)),
            );
            continue;
        };
        let v = view::configuration(&shared.config.server, c);
        let polling = if v.polling_event_types.is_empty() {
            "off".to_string()
        } else {
            format!(
                "{} every {} s",
                esc(&v.polling_event_types.join(", ")),
                v.polling_interval_secs
            )
        };
        let toggle = if v.enabled { "disable" } else { "enable" };
        let _ = write!(
            body,
            "<div class=\"card config\" data-name=\"{name}\"><h2>{name} <span class=\"{state_class}\">({state})</span></h2><dl>\
             <dt>Appliance id</dt><dd><code>{id}</code></dd><dt>Appliance host</dt><dd>{host}</dd>\
             <dt>Authentication</dt><dd>{auth}</dd><dt>Zendesk</dt><dd>{zd}</dd><dt>Zendesk user</dt><dd>{user}</dd>\
             <dt>Polling</dt><dd>{polling}</dd>\
             <dt>Outbound Event URL</dt><dd><code>{url}</code><br><span class=\"muted\">Appliance: /login &gt; Management &gt; \
             Outbound Events &gt; HTTP Recipients; send Support Session End and both exit surveys.</span></dd>\
             <dt>Custom Link URL</dt><dd><code>{link}</code><br><span class=\"muted\">/login &gt; Rep Console &gt; Custom Links</span></dd></dl>\
             <p class=\"actions\"><form class=\"inline\" method=\"post\" action=\"/configurations/{seg}/test\"><button>Test connection</button></form> \
             <a href=\"/configurations/{seg}/edit\">Edit</a> <a href=\"/configurations/{seg}/copy\">Copy</a> \
             <form class=\"inline\" method=\"post\" action=\"/configurations/{seg}/{toggle}\"><button class=\"secondary\">{toggle_label}</button></form> \
             <a href=\"/configurations/{seg}/delete\" class=\"danger\">Delete</a></p></div>",
            name = esc(&v.name),
            state_class = if v.enabled { "ok" } else { "muted" },
            state = if v.enabled { "enabled" } else { "disabled" },
            id = esc(&v.appliance_id),
            host = esc(&v.appliance_host),
            auth = v.auth,
            zd = esc(&v.zendesk_url),
            user = esc(&v.zendesk_username),
            url = esc(&v.outbound_event_url),
            link = esc(&v.custom_link_url),
            toggle_label = if v.enabled { "Disable" } else { "Enable" },
        );
    }
    Ok(body)
}
