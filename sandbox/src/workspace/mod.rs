//! A local stand-in for Zendesk's agent workspace and Help Center, for the demo.
//!
//! Zendesk renders the agent's ticket page with installed apps in iframes and answers their ZAF
//! client calls; Help Center renders `request_page.hbs` for end users. This module does the same
//! on loopback with the real packaged app (`dist/app`), so a visitor with no Zendesk account can
//! use the sidebar, end a scripted support session on the simulated appliance and watch the
//! middleware's private comments arrive in the ticket conversation.
//!
//! It only uses the simulators' public handles: tickets and comments come from [`Zendesk`], the
//! scripted session and what the representative console received from [`Appliance`].

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use handlebars::Renderable;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Appliance, Customer, Party, SessionSpec, SysInfoCategory, Zendesk};

const AGENT_PAGE: &str = include_str!("agent.html");
const HELP_CENTER_PAGE: &str = include_str!("help_center.html");
const ZAF_STAND_IN: &str = include_str!("zaf_sdk.js");
/// The SDK URL the packaged `iframe.html` loads; the workspace serves its stand-in instead.
const ZAF_SDK_URL: &str =
    "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js";
const ZAF_STAND_IN_PATH: &str = "/zaf/zaf_sdk.js";

/// What the demo installs the app with (the app's settings in Zendesk's admin).
#[derive(Debug, Clone)]
pub struct WorkspaceOptions {
    /// The packaged app folder (`dist/app`).
    pub app_dir: PathBuf,
    /// `issues` setting: `code=Name` lines.
    pub issues: String,
    /// `jumpoints` setting: one per line.
    pub jumpoints: String,
}

struct Workspace {
    appliance: Appliance,
    zendesk: Zendesk,
    options: WorkspaceOptions,
}

type Shared = Arc<Workspace>;

/// The workspace's routes: `/agent/tickets/{id}`, `/hc/en-us/requests/{id}`, the app files under
/// `/apps/remote-support/`, the ZAF stand-in and the demo controls under `/_demo/`.
pub fn router(appliance: Appliance, zendesk: Zendesk, options: WorkspaceOptions) -> Router {
    let shared = Arc::new(Workspace {
        appliance,
        zendesk,
        options,
    });
    Router::new()
        .route("/", get(home))
        .route("/agent/tickets/{id}", get(agent_page))
        .route("/hc/en-us/requests/{id}", get(help_center_page))
        .route(ZAF_STAND_IN_PATH, get(zaf_stand_in))
        .route("/apps/remote-support/{*path}", get(app_file))
        .route("/_demo/settings", get(app_settings))
        .route("/_demo/tickets/{id}", get(ticket_json))
        .route("/_demo/tickets/{id}/end-session", post(end_session))
        .route("/_demo/console", get(console))
        .route("/_demo/proxy", post(proxy::proxy_request))
        .route(
            "/api/v2/tickets/{id}/comments.json",
            get(proxy::ticket_comments),
        )
        .with_state(shared)
}

/// The ticket the demo opens first, created when the workspace starts.
pub fn seed_ticket(zendesk: &Zendesk) -> u64 {
    zendesk.create_ticket("Printer on 3rd floor prints blank pages")
}

async fn home(State(ws): State<Shared>) -> Redirect {
    let first = (1..=1000)
        .find(|id| ws.zendesk.ticket(*id).is_some())
        .unwrap_or(1);
    Redirect::temporary(&format!("/agent/tickets/{first}"))
}

#[derive(Deserialize)]
struct RoleQuery {
    role: Option<String>,
    locale: Option<String>,
}

async fn agent_page(
    UrlPath(id): UrlPath<u64>,
    Query(q): Query<RoleQuery>,
    State(ws): State<Shared>,
) -> Response {
    let Some(ticket) = ws.zendesk.ticket(id) else {
        return (
            StatusCode::NOT_FOUND,
            Html(format!("<p>No ticket {id} in the sandbox Zendesk.</p>")),
        )
            .into_response();
    };
    let role = if q.role.as_deref() == Some("agent") {
        "agent"
    } else {
        "admin"
    };
    let locale = q
        .locale
        .as_deref()
        .filter(|l| l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or("en");
    let boot = json!({
        "ticket": { "id": ticket.id, "subject": ticket.subject },
        "role": role,
        "locale": locale,
        "appliance": ws.appliance.base_url(),
    });
    Html(AGENT_PAGE.replace("__BOOT__", &script_json(&boot))).into_response()
}

/// JSON safe to place inside a `<script>` element.
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

async fn zaf_stand_in() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript")], ZAF_STAND_IN)
}

/// The app's settings as Zendesk would hand them to `client.metadata()`.
fn settings(ws: &Workspace) -> Value {
    json!({
        "hostname": ws.appliance.host(),
        "issues": ws.options.issues,
        "jumpoints": ws.options.jumpoints,
        "allow_jump_client": true,
        "allow_local_jump": true,
        "allow_remote_jump": true,
        "allow_rdp": true,
        "allow_shell_jump": true,
        // Session keys in the sidebar, through the ZAF proxy stand-in (`proxy`).
        "api_session_keys": true,
        "session_queue": "general",
    })
}

async fn app_settings(State(ws): State<Shared>) -> Json<Value> {
    Json(settings(&ws))
}

async fn app_file(UrlPath(path): UrlPath<String>, State(ws): State<Shared>) -> Response {
    let Some(file) = safe_join(&ws.options.app_dir, &path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(bytes) = tokio::fs::read(&file).await else {
        return (
            StatusCode::NOT_FOUND,
            format!("{path} is not in the packaged app; run `cargo xtask package`"),
        )
            .into_response();
    };
    if path == "assets/iframe.html" || path == "assets/modal.html" {
        // No internet here: the page gets the workspace's ZAF client in place of Zendesk's SDK.
        let page = String::from_utf8_lossy(&bytes).replace(ZAF_SDK_URL, ZAF_STAND_IN_PATH);
        return Html(page).into_response();
    }
    ([(header::CONTENT_TYPE, content_type(&file))], bytes).into_response()
}

/// `root/relative` when `relative` stays inside `root`.
fn safe_join(root: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| root.join(rel))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

async fn ticket_json(UrlPath(id): UrlPath<u64>, State(ws): State<Shared>) -> Response {
    match ws.zendesk.ticket(id) {
        Some(ticket) => Json(json!({
            "id": ticket.id,
            "subject": ticket.subject,
            "tags": ticket.tags,
            "comments": ticket.comments.iter().map(|c| json!({
                "id": c.id, "public": c.public, "body": c.body, "html_body": c.html_body, "created_at": c.created_at,
            })).collect::<Vec<_>>(),
        }))
        .into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "RecordNotFound", "description": "Not found"}))).into_response(),
    }
}

/// The scripted session the demo's End session button runs: chat, a file, system information,
/// a note and both surveys, tied to the ticket by its external key.
pub fn demo_session(ticket_id: u64) -> SessionSpec {
    SessionSpec::default()
        .external_key(ticket_id.to_string())
        .customer(Customer {
            details: "Printer prints blank pages".into(),
            ..Customer::default()
        })
        .chat(Party::REP, "Hello Jane, I am connected to your PC now.")
        .chat(
            Party::CUSTOMER,
            "Thanks! The printer on the 3rd floor prints blank pages.",
        )
        .system_info(vec![SysInfoCategory::single_row(
            "Overview",
            [
                ("OS", "Windows 11 Pro 23H2"),
                ("Memory", "16 GB"),
                ("Default printer", "HP LaserJet 3F"),
            ],
        )])
        .file_upload(
            Party::REP,
            "C:\\Users\\jcustomer\\Desktop\\hp-driver-7.1.zip",
            4_718_592,
        )
        .chat(
            Party::REP,
            "I installed driver 7.1; please print a test page.",
        )
        .chat(Party::CUSTOMER, "It works <3 — thank you!")
        .note(
            Party::REP,
            "Reinstalled the HP LaserJet driver (7.1); test page OK.",
        )
        .customer_survey([("rating", "5"), ("comments", "Quick and friendly help.")])
        .rep_survey([
            ("resolved", "Yes"),
            ("comments", "Outdated driver after Windows update."),
        ])
}

async fn end_session(UrlPath(id): UrlPath<u64>, State(ws): State<Shared>) -> Response {
    if ws.zendesk.ticket(id).is_none() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no ticket {id}")})),
        )
            .into_response();
    }
    let lsid = ws.appliance.create_session(demo_session(id));
    ws.appliance.end_session(&lsid);
    Json(json!({ "lsid": lsid })).into_response()
}

/// What the representative console would have received.
async fn console(State(ws): State<Shared>) -> Json<Value> {
    let calls = |list: Vec<crate::RecordedCall>| serde_json::to_value(list).unwrap_or(Value::Null);
    Json(json!({
        "client_scripts": calls(ws.appliance.client_scripts()),
        "start_sessions": calls(ws.appliance.start_sessions()),
        "session_keys": serde_json::to_value(ws.appliance.session_keys()).unwrap_or(Value::Null),
        "delivered_events": ws.appliance.delivered_events().len(),
        "pending_events": ws.appliance.pending_events(),
    }))
}

async fn help_center_page(UrlPath(id): UrlPath<u64>, State(ws): State<Shared>) -> Response {
    let Some(ticket) = ws.zendesk.ticket(id) else {
        return (
            StatusCode::NOT_FOUND,
            Html("<p>No such request.</p>".to_string()),
        )
            .into_response();
    };
    let texts = app_core::help_center::SnippetTexts::default();
    let markup = match app_core::settings::Settings::from_json(&settings(&ws)) {
        Ok(valid) => match app_core::help_center::from_settings(&valid, &texts) {
            Ok(snippet) => snippet.markup,
            Err(error) => format!(
                "<p>{}</p>",
                app_core::help_center::escape_html(&error.to_string())
            ),
        },
        Err(problems) => problems
            .iter()
            .map(|p| {
                format!(
                    "<p>{}</p>",
                    app_core::help_center::escape_html(&p.to_string())
                )
            })
            .collect(),
    };
    // Help Center renders the theme with its own templating (Curlybars): the snippet's
    // `{{request.id}}`, `{{request.subject}}` and `{{request.requester.name}}` get the (escaped)
    // values of this request, and its `{{#is}}` conditions (requester only, not closed) are
    // decided for the demo's viewer, the requester of an open request.
    let page = HELP_CENTER_PAGE.replace("__SNIPPET__", &markup);
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(false);
    hb.register_helper("is", Box::new(IsHelper));
    let context = json!({
        "request": { "id": ticket.id, "subject": ticket.subject, "status": "open", "requester": { "id": DEMO_REQUESTER_ID, "name": "Jane Customer" } },
        "user": { "id": DEMO_REQUESTER_ID, "name": "Jane Customer" },
        "help_center": { "name": "Example Corp Help Center" },
    });
    match hb.render_template(&page, &context) {
        Ok(html) => Html(html).into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("help center template: {error}"),
        )
            .into_response(),
    }
}

pub mod proxy;

/// The Help Center user the demo shows the request page to: its requester.
const DEMO_REQUESTER_ID: u64 = 501;

/// Help Center's `{{#is a b}}…{{else}}…{{/is}}` block helper: the block when both values are
/// equal, the `else` part otherwise.
struct IsHelper;

impl handlebars::HelperDef for IsHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &handlebars::Helper<'rc>,
        r: &'reg handlebars::Handlebars<'reg>,
        ctx: &'rc handlebars::Context,
        rc: &mut handlebars::RenderContext<'reg, 'rc>,
        out: &mut dyn handlebars::Output,
    ) -> handlebars::HelperResult {
        let (a, b) = (h.param(0), h.param(1));
        let same =
            matches!((a, b), (Some(a), Some(b)) if !a.value().is_null() && a.value() == b.value());
        match if same { h.template() } else { h.inverse() } {
            Some(template) => template.render(r, ctx, rc, out),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
