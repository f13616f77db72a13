//! The admin's HTML: small server-rendered pages, no script. Every value that comes from outside
//! (lsid, errors, external keys, configuration names) goes through [`esc`].

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::view::{self, EventRow, RetryOutcome, TestResult};
use super::AdminState;
use crate::store::{Status, StoreError};

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment (configuration names may hold spaces or slashes).
pub fn segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#2f3941;margin:0;background:#f8f9f9;font-size:14px}\
header{background:#fff;border-bottom:1px solid #d8dcde;padding:12px 24px;display:flex;gap:24px;align-items:center}\
header h1{font-size:16px;margin:0;flex:1}header a{color:#1f73b7;text-decoration:none}\
main{padding:24px;max-width:1200px}h2{font-size:15px;margin:24px 0 8px}\
.card{background:#fff;border:1px solid #d8dcde;border-radius:4px;padding:16px;margin-bottom:16px}\
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d8dcde}\
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d8dcde;vertical-align:top}th{background:#f8f9f9;font-weight:600}\
button{background:#1f73b7;color:#fff;border:0;border-radius:4px;padding:6px 14px;font-size:14px;cursor:pointer}\
button.secondary{background:#fff;color:#1f73b7;border:1px solid #1f73b7}\
input[type=password]{border:1px solid #d8dcde;border-radius:4px;padding:6px 8px;font-size:14px}\
code{background:#f8f9f9;border:1px solid #d8dcde;border-radius:3px;padding:1px 4px;word-break:break-all}\
.counts{display:flex;gap:12px;flex-wrap:wrap}.count{background:#fff;border:1px solid #d8dcde;border-radius:4px;padding:10px 16px;min-width:90px}\
.count b{display:block;font-size:20px}.ok{color:#038153}.bad{color:#cc3340}.muted{color:#68737d}\
a{color:#1f73b7}dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dt{color:#68737d}dd{margin:0}\
.filters a{margin-right:10px}form.inline{display:inline}.card h2{margin-top:0}ul.checks{list-style:none;padding-left:0}\
a.count{text-decoration:none;color:#2f3941}";

fn layout(title: &str, body: &str, signed_in: bool) -> String {
    let nav = if signed_in {
        "<a href=\"/\">Dashboard</a><a href=\"/events\">Events</a>\
         <form class=\"inline\" method=\"post\" action=\"/logout\"><button class=\"secondary\">Log out</button></form>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{} · Remote Support middleware</title><style>{STYLE}</style></head>\
         <body><header><h1>Remote Support for Zendesk · middleware</h1>{nav}</header><main>{body}</main></body></html>",
        esc(title)
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(layout(title, body, true))).into_response()
}

fn store_error(e: StoreError) -> Response {
    tracing::error!(error = %e, "admin: store query failed");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "<p class=\"bad\">The database could not be read; see the middleware log.</p>",
    )
}

pub fn login(message: Option<&str>) -> String {
    let message = message
        .map(|m| format!("<p class=\"bad\">{}</p>", esc(m)))
        .unwrap_or_default();
    layout(
        "Log in",
        &format!(
            "<div class=\"card\" style=\"max-width:360px\"><h2>Log in</h2>{message}\
             <form method=\"post\" action=\"/login\"><p><label>Admin password<br>\
             <input type=\"password\" name=\"password\" autocomplete=\"current-password\" autofocus required></label></p>\
             <button>Log in</button></form></div>"
        ),
        false,
    )
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(esc).unwrap_or_default()
}

fn ticket_cell(r: &EventRow) -> String {
    match (&r.ticket_url, r.ticket_id) {
        (Some(url), Some(id)) => format!(
            "<a href=\"{}\" target=\"_blank\" rel=\"noopener\">#{id}</a>",
            esc(url)
        ),
        (None, Some(id)) => format!("#{id}"),
        _ => String::new(),
    }
}

fn retry_button(r: &EventRow) -> String {
    if r.retryable {
        format!("<form class=\"inline\" method=\"post\" action=\"/events/{}/retry\"><button>Retry</button></form>", r.id)
    } else {
        String::new()
    }
}

fn events_table(rows: &[EventRow]) -> String {
    let mut t = String::from(
        "<table><tr><th>Received</th><th>Configuration</th><th>Event</th><th>lsid</th><th>Ticket</th>\
         <th>Status</th><th>Attempts</th><th>Last error</th><th></th></tr>",
    );
    for r in rows {
        let _ = write!(
            t,
            "<tr><td><a href=\"/events/{id}\">{time}</a></td><td>{cfg}</td><td>{ty}</td><td><code>{lsid}</code></td><td>{ticket}</td>\
             <td>{status}</td><td>{attempts}</td><td>{err}</td><td>{retry}</td></tr>",
            id = r.id,
            time = esc(&r.received_at),
            cfg = esc(&r.configuration),
            ty = esc(&r.event_type),
            lsid = esc(&r.lsid),
            ticket = ticket_cell(r),
            status = esc(r.status),
            attempts = r.attempts,
            err = opt(&r.last_error),
            retry = retry_button(r),
        );
    }
    if rows.is_empty() {
        t.push_str("<tr><td colspan=\"9\" class=\"muted\">No events.</td></tr>");
    }
    t.push_str("</table>");
    t
}

pub async fn dashboard(State(state): State<Arc<AdminState>>) -> Response {
    let shared = &state.shared;
    let (counts, recent) = match (
        view::status_counts(shared).await,
        view::page_of(shared, None, 0, 20).await,
    ) {
        (Ok(c), Ok((r, _))) => (c, r),
        (Err(e), _) | (_, Err(e)) => return store_error(e),
    };
    let mut body = String::from("<h2>Events by status</h2><div class=\"counts\">");
    for c in counts {
        let _ = write!(
            body,
            "<a class=\"count\" href=\"/events?status={s}\"><b>{n}</b>{s}</a>",
            s = c.status,
            n = c.count
        );
    }
    body.push_str("</div><h2>Configurations</h2>");
    let configurations = view::configurations(shared);
    if configurations.is_empty() {
        body.push_str(
            "<div class=\"card\">No configurations: add a <code>[[configuration]]</code> section to the configuration \
             file and restart the middleware.</div>",
        );
    }
    for c in configurations {
        let polling = if c.polling_event_types.is_empty() {
            "off".to_string()
        } else {
            format!(
                "{} every {} s",
                esc(&c.polling_event_types.join(", ")),
                c.polling_interval_secs
            )
        };
        let _ = write!(
            body,
            "<div class=\"card\"><h2>{name} <span class=\"{state_class}\">({state})</span></h2><dl>\
             <dt>Appliance id</dt><dd><code>{id}</code></dd><dt>Appliance host</dt><dd>{host}</dd>\
             <dt>Authentication</dt><dd>{auth}</dd><dt>Zendesk</dt><dd>{zd}</dd><dt>Zendesk user</dt><dd>{user}</dd>\
             <dt>Polling</dt><dd>{polling}</dd>\
             <dt>Outbound Event URL</dt><dd><code>{url}</code><br><span class=\"muted\">Appliance: /login &gt; Management &gt; \
             Outbound Events &gt; HTTP Recipients; send Support Session End and both exit surveys.</span></dd></dl>\
             <p><form class=\"inline\" method=\"post\" action=\"/configurations/{seg}/test\"><button>Test connection</button></form></p></div>",
            name = esc(&c.name),
            state_class = if c.enabled { "ok" } else { "muted" },
            state = if c.enabled { "enabled" } else { "disabled" },
            id = esc(&c.appliance_id),
            host = esc(&c.appliance_host),
            auth = c.auth,
            zd = esc(&c.zendesk_url),
            user = esc(&c.zendesk_username),
            url = esc(&c.outbound_event_url),
            seg = esc(&segment(&c.name)),
        );
    }
    body.push_str("<h2>Recent events <a href=\"/events\" style=\"font-size:13px\">all</a></h2>");
    body.push_str(&events_table(&recent));
    page(StatusCode::OK, "Dashboard", &body)
}

pub async fn events(
    State(state): State<Arc<AdminState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = q.get("status").filter(|s| !s.is_empty());
    let filter = match status {
        None => None,
        Some(s) => match Status::parse(s) {
            Some(s) => Some(s),
            None => {
                return page(
                    StatusCode::BAD_REQUEST,
                    "Events",
                    "<p class=\"bad\">Unknown status.</p>",
                )
            }
        },
    };
    let page_no: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let (rows, more) = match view::page_of(&state.shared, filter, page_no, view::PAGE_SIZE).await {
        Ok(p) => p,
        Err(e) => return store_error(e),
    };
    let mut body =
        String::from("<h2>Events</h2><p class=\"filters\">Status: <a href=\"/events\">all</a>");
    for s in view::STATUSES {
        let _ = write!(body, "<a href=\"/events?status={0}\">{0}</a>", s.as_str());
    }
    body.push_str("</p>");
    body.push_str(&events_table(&rows));
    let link = |p: usize| match filter {
        Some(s) => format!("/events?status={}&amp;page={p}", s.as_str()),
        None => format!("/events?page={p}"),
    };
    body.push_str("<p>");
    if page_no > 0 {
        let _ = write!(body, "<a href=\"{}\">Newer</a> ", link(page_no - 1));
    }
    if more {
        let _ = write!(body, "<a href=\"{}\">Older</a>", link(page_no + 1));
    }
    body.push_str("</p>");
    page(StatusCode::OK, "Events", &body)
}

pub async fn event(State(state): State<Arc<AdminState>>, Path(id): Path<i64>) -> Response {
    let d = match view::event_detail(&state.shared, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return page(StatusCode::NOT_FOUND, "Event", "<p>No such event.</p>"),
        Err(e) => return store_error(e),
    };
    let r = &d.row;
    let mut body = format!(
        "<h2>Event {id}</h2><div class=\"card\"><dl><dt>Status</dt><dd>{status}</dd><dt>Configuration</dt><dd>{cfg}</dd>\
         <dt>Appliance id</dt><dd>{app}</dd><dt>Event</dt><dd>{ty}</dd><dt>lsid</dt><dd><code>{lsid}</code></dd>\
         <dt>Source</dt><dd>{src}</dd><dt>Event timestamp</dt><dd>{ts}</dd><dt>Received</dt><dd>{recv}</dd>\
         <dt>Updated</dt><dd>{upd}</dd><dt>Ticket</dt><dd>{ticket}</dd><dt>Attempts</dt><dd>{attempts}</dd>\
         <dt>Last error</dt><dd>{err}</dd></dl><p>{retry}</p></div>",
        id = r.id,
        status = esc(r.status),
        cfg = esc(&r.configuration),
        app = esc(&d.appliance_id),
        ty = esc(&r.event_type),
        lsid = esc(&r.lsid),
        src = r.source,
        ts = esc(&d.event_timestamp),
        recv = esc(&r.received_at),
        upd = esc(&d.updated_at),
        ticket = ticket_cell(r),
        attempts = r.attempts,
        err = opt(&r.last_error),
        retry = retry_button(r),
    );
    if let Ok(Some(created)) = state.shared.store.created_by_event(r.id).await {
        let _ = write!(
            body,
            "<p class=\"created\">This event created ticket {} for its unassociated session.</p>",
            if r.ticket_id == Some(created as i64) {
                ticket_cell(r)
            } else {
                format!("#{created}")
            }
        );
    }
    body.push_str("<h2>Attempts</h2><table><tr><th>When</th><th>Error</th></tr>");
    for a in &d.attempt_log {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&a.at),
            esc(&a.error)
        );
    }
    if d.attempt_log.is_empty() {
        body.push_str("<tr><td colspan=\"2\" class=\"muted\">No failed attempts.</td></tr>");
    }
    body.push_str("</table><h2>Fields received</h2><table><tr><th>Name</th><th>Value</th></tr>");
    for (k, v) in &d.fields {
        let _ = write!(body, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
    }
    body.push_str("</table>");
    page(StatusCode::OK, "Event", &body)
}

pub async fn retry(State(state): State<Arc<AdminState>>, Path(id): Path<i64>) -> Response {
    match view::retry(&state.shared, id).await {
        Ok(RetryOutcome::Requeued) => Redirect::to(&format!("/events/{id}")).into_response(),
        Ok(RetryOutcome::NotFound) => page(StatusCode::NOT_FOUND, "Retry", "<p>No such event.</p>"),
        Ok(RetryOutcome::NotRetryable(s)) => page(
            StatusCode::CONFLICT,
            "Retry",
            &format!(
                "<p>Event {id} is {} and cannot be retried. <a href=\"/events/{id}\">Back</a></p>",
                esc(s)
            ),
        ),
        Err(e) => store_error(e),
    }
}

pub fn test_result(t: &TestResult) -> String {
    let mut body = format!(
        "<h2>Test connection: {} — <span class=\"{}\">{}</span></h2><div class=\"card\"><ul class=\"checks\">",
        esc(&t.configuration),
        if t.ok { "ok" } else { "bad" },
        if t.ok { "all checks passed" } else { "failed" }
    );
    for line in &t.passed {
        let _ = write!(body, "<li class=\"ok\">✓ {}</li>", esc(line));
    }
    for line in &t.failed {
        let _ = write!(body, "<li class=\"bad\">✗ {}</li>", esc(line));
    }
    body.push_str("</ul><p><a href=\"/\">Back to the dashboard</a></p></div>");
    body
}

pub async fn test_connection(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
) -> Response {
    match view::test_connection(&state.shared, &name).await {
        Some(t) => page(StatusCode::OK, "Test connection", &test_result(&t)),
        None => page(
            StatusCode::NOT_FOUND,
            "Test connection",
            "<p>No such configuration.</p>",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert(\"x\")</script>&'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("Prod EU/2"), "Prod%20EU%2F2");
    }
}
