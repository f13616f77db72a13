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
a.count{text-decoration:none;color:#2f3941}a.count.alert{border:2px solid #cc3340;background:#fff0f1;color:#cc3340}\
a.count.active{outline:3px solid #1f73b7}form.search{margin:12px 0}input[type=search]{border:1px solid #d8dcde;border-radius:4px;padding:6px 8px;width:280px}\
a.button{display:inline-block;background:#1f73b7;color:#fff;border-radius:4px;padding:6px 14px;text-decoration:none}\
button.danger,a.danger{color:#cc3340}button.danger{background:#fff;border:1px solid #cc3340}\
.field{display:grid;grid-template-columns:220px 1fr;gap:8px;padding:6px 0;border-bottom:1px solid #f0f1f2}\
.field input[type=text],.field input[type=password]{width:360px;max-width:100%;border:1px solid #d8dcde;border-radius:4px;padding:6px 8px;font-size:14px}\
label.check{margin-right:12px;white-space:nowrap}.preview{border:1px dashed #d8dcde;padding:12px;margin-top:12px;background:#fdfdfd}.actions a{margin:0 6px}";

pub fn layout(title: &str, body: &str, signed_in: bool) -> String {
    let nav = if signed_in {
        "<a href=\"/\">Dashboard</a><a href=\"/events\">Events</a><a href=\"/templates\">Templates</a>\
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

/// An error as a page (not plain text), with the way back.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    page(
        status,
        title,
        &format!(
            "<div class=\"card\"><h2>{}</h2><p class=\"bad\">{}</p><p><a href=\"/\">Dashboard</a> · <a href=\"/events\">Events</a></p></div>",
            esc(title),
            esc(message)
        ),
    )
}

/// An error page for someone who may not be logged in: links to the login page.
pub fn error_page_with_login(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        Html(layout(
            title,
            &format!(
                "<div class=\"card\"><h2>{}</h2><p class=\"bad\">{}</p><p><a href=\"/login\">Log in</a></p></div>",
                esc(title),
                esc(message)
            ),
            false,
        )),
    )
        .into_response()
}

/// Pages for paths that do not exist.
pub async fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address.",
    )
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

pub async fn dashboard(
    State(state): State<Arc<AdminState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let shared = &state.shared;
    let saved = q
        .get("saved")
        .map(|name| {
            format!(
                "<div class=\"card ok\" id=\"saved\" role=\"status\">Saved {}; it is in effect now (no restart needed).</div>",
                esc(name)
            )
        })
        .unwrap_or_default();
    let (counts, recent) = match (
        view::status_counts(shared).await,
        view::page_of(shared, None, 0, 20).await,
    ) {
        (Ok(c), Ok((r, _))) => (c, r),
        (Err(e), _) | (_, Err(e)) => return store_error(e),
    };
    let mut body = format!(
        "{saved}<h2>Events by status</h2>{}",
        count_links(&counts, None)
    );
    body.push_str("<h2>Configurations</h2>");
    match super::configurations::cards(shared).await {
        Ok(cards) => body.push_str(&cards),
        Err(e) => {
            tracing::error!(error = %e, "admin: configurations could not be read");
            body.push_str("<p class=\"bad\">The configurations could not be read; see the middleware log.</p>");
        }
    }
    body.push_str("<h2>Recent events <a href=\"/events\" style=\"font-size:13px\">all</a></h2>");
    body.push_str(&events_table(&recent));
    page(StatusCode::OK, "Dashboard", &body)
}

/// The counts as links to the filtered lists; failed ones stand out when there are any, with
/// the place for bulk actions on them.
fn count_links(counts: &[view::StatusCount], active: Option<Status>) -> String {
    let mut out = String::from("<div class=\"counts\">");
    for c in counts {
        let mut class = String::from("count");
        if c.status == "failed" && c.count > 0 {
            class.push_str(" alert");
        }
        if active.is_some_and(|a| a.as_str() == c.status) {
            class.push_str(" active");
        }
        let _ = write!(
            out,
            "<a class=\"{class}\" id=\"count-{s}\" href=\"/events?status={s}\"><b>{n}</b>{s}</a>",
            s = c.status,
            n = c.count
        );
    }
    out.push_str("</div>");
    let failed = counts
        .iter()
        .find(|c| c.status == Status::Failed.as_str())
        .map_or(0, |c| c.count);
    out.push_str(&retry_failed_button(failed));
    out
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
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Events",
                    &format!(
                        "Unknown status {s:?}; use one of {}.",
                        view::STATUSES.map(Status::as_str).join(", ")
                    ),
                )
            }
        },
    };
    let search = q.get("q").map(|s| s.trim()).filter(|s| !s.is_empty());
    let page_no: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let counts = match view::status_counts(&state.shared).await {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    let (rows, more) = match search {
        Some(text) => match view::search(&state.shared, text).await {
            Ok(r) => (r, false),
            Err(e) => return store_error(e),
        },
        None => match view::page_of(&state.shared, filter, page_no, view::PAGE_SIZE).await {
            Ok(p) => p,
            Err(e) => return store_error(e),
        },
    };
    let showing = match (search, filter) {
        (Some(text), _) => format!(
            "Events for ticket or session <code>{}</code> ({} found)",
            esc(text),
            rows.len()
        ),
        (None, Some(s)) => format!("Events with status <b>{}</b>", s.as_str()),
        (None, None) => "All events".to_string(),
    };
    let clear = if search.is_some() || filter.is_some() {
        " <a href=\"/events\" id=\"clear-filter\">show all</a>"
    } else {
        ""
    };
    let mut body = format!(
        "<h2>Events</h2>{counts}<form method=\"get\" action=\"/events\" class=\"search\">\
         <label>Ticket number or session id (lsid) <input type=\"search\" name=\"q\" value=\"{q}\" id=\"search\"></label> \
         <button>Search</button></form><p class=\"showing\" id=\"showing\">{showing}{clear}</p>",
        counts = count_links(&counts, filter.filter(|_| search.is_none())),
        q = esc(search.unwrap_or("")),
    );
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

/// Event ids are numbers; anything else gets a page saying so (not axum's plain-text 400).
fn event_id(raw: &str) -> Result<i64, Box<Response>> {
    raw.parse().map_err(|_| {
        Box::new(error_page(
            StatusCode::NOT_FOUND,
            "Event",
            &format!(
                "{raw:?} is not an event id; event ids are numbers, as listed on the Events page."
            ),
        ))
    })
}

pub async fn event(State(state): State<Arc<AdminState>>, Path(raw): Path<String>) -> Response {
    let id = match event_id(&raw) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let d = match view::event_detail(&state.shared, id).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return error_page(
                StatusCode::NOT_FOUND,
                "Event",
                &format!("There is no event {id}."),
            )
        }
        Err(e) => return store_error(e),
    };
    let r = &d.row;
    let mut body = format!(
        "<h2>Event {id}</h2><div class=\"card\"><dl><dt>Status</dt><dd>{status}</dd><dt>Configuration</dt><dd>{cfg}</dd>\
         <dt>Appliance id</dt><dd>{app}</dd><dt>Event</dt><dd>{ty}</dd><dt>lsid</dt><dd><code>{lsid}</code></dd>\
         <dt>Source</dt><dd>{src}</dd><dt>Event timestamp</dt><dd>{ts}</dd><dt>Received</dt><dd>{recv}</dd>\
         <dt>Updated</dt><dd>{upd}</dd><dt>Ticket</dt><dd>{ticket}</dd><dt>Attempts</dt><dd>{attempts}</dd>\
         <dt>Last error</dt><dd>{err}</dd></dl><p>{retry} <a href=\"/templates?event={id}\">Preview the templates with this session</a></p></div>",
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

pub async fn retry(State(state): State<Arc<AdminState>>, Path(raw): Path<String>) -> Response {
    let id = match event_id(&raw) {
        Ok(id) => id,
        Err(r) => return *r,
    };
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

/// "Retry all failed": requeues every failed event, then shows what is left failed (nothing,
/// unless an event failed again meanwhile).
pub async fn retry_failed(State(state): State<Arc<AdminState>>) -> Response {
    match view::retry_failed(&state.shared).await {
        Ok(_) => Redirect::to("/events?status=failed").into_response(),
        Err(e) => store_error(e),
    }
}

/// The "Retry all failed" button, shown when `failed` events exist.
fn retry_failed_button(failed: usize) -> String {
    if failed == 0 {
        return String::new();
    }
    format!(
        "<form class=\"inline\" method=\"post\" action=\"/events/retry-failed\">\
         <button>Retry all failed ({failed})</button></form>"
    )
}

pub fn test_result(t: &TestResult) -> String {
    let mut body = format!(
        "<h2>Test connection: {} — <span class=\"{}\" id=\"test-outcome\">{}</span></h2><div class=\"card\"><ul class=\"checks\">",
        esc(&t.configuration),
        if t.ok { "ok" } else { "bad" },
        if t.ok { "all checks passed" } else { "failed" }
    );
    for c in &t.checks {
        let _ = write!(
            body,
            "<li class=\"{} check-{}\">{} <b>{}</b>: {}</li>",
            if c.ok { "ok" } else { "bad" },
            if c.ok { "pass" } else { "fail" },
            if c.ok { "✓ pass" } else { "✗ fail" },
            c.target,
            esc(&c.detail)
        );
    }
    let _ = write!(
        body,
        "</ul><dl><dt>Outbound Event URL</dt><dd><code id=\"outbound-url\">{}</code><br><span class=\"muted\">/login &gt; Management &gt; \
         Outbound Events &gt; Add New HTTP Recipient; send Support Session End and both exit surveys.</span></dd>\
         <dt>Custom Link URL</dt><dd><code id=\"custom-link\">{}</code><br><span class=\"muted\">/login &gt; Rep Console &gt; \
         Custom Links &gt; Create New Custom Link (opens the session's ticket).</span></dd></dl>\
         <p><a href=\"/\">Back to the dashboard</a> · <a href=\"/configurations/{}/edit\">Edit the configuration</a></p></div>",
        esc(&t.outbound_event_url),
        esc(&t.custom_link_url),
        esc(&segment(&t.configuration)),
    );
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
