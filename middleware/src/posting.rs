//! What goes to Zendesk for one event (pure: [`plan_session`], [`plan_html`]) and posting it
//! (I/O: [`deliver`]).
//!
//! Zendesk refuses comments over about 65,000 characters, and real reports (hundreds of System
//! Information rows, 1,000+ chat lines) are far longer. So:
//! - the comment shows only the configured System Information categories;
//! - when it is still over `comment_max_chars`, the **full** report (every category, every
//!   line, the same escaping) is uploaded as `beyondtrust-session-<lsid>.html` and attached,
//!   and the comment keeps the summary, the latest transcript entries that fit and a line naming
//!   the attachment;
//! - when Zendesk refuses the upload (admins can restrict attachment types), the full report is
//!   split over as many comments as needed, each within budget and each with its own session
//!   record (`part=N/M`), so each part is posted exactly once.
//!
//! Nothing is cut silently: a part boundary closes and reopens the HTML elements open there.

use app_core::marker::Marker;

use crate::render::{self, RenderError, SessionView};
use crate::store::{Store, StoreError, StoredEvent};
use crate::zendesk::{Slot, TicketUpdate, ZendeskClient, ZendeskError};

/// Room kept in every comment for closing tags at a part boundary.
const CLOSE_MARGIN: usize = 200;

/// One comment to post, its body already ending with its session record.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedComment {
    pub html: String,
    pub record: Marker,
}

/// The file to upload and attach.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFile {
    pub name: String,
    pub html: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The report fits in one comment.
    Single(PlannedComment),
    /// The full report is attached to a trimmed comment; `fallback` (parts) if the upload is
    /// refused.
    Attached {
        file: PlannedFile,
        comment: PlannedComment,
        fallback: Vec<PlannedComment>,
    },
    /// The report in several comments (no attachment can help: even the trimmed summary is over
    /// budget).
    Split(Vec<PlannedComment>),
}

impl Plan {
    /// Every comment the plan may post (for tests and measurements).
    pub fn comments(&self) -> Vec<&PlannedComment> {
        match self {
            Plan::Single(c) => vec![c],
            Plan::Attached { comment, .. } => vec![comment],
            Plan::Split(parts) => parts.iter().collect(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Render(#[from] RenderError),
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn finish(html: &str, record: &Marker) -> PlannedComment {
    PlannedComment {
        html: render::with_marker(html, &record.to_line()),
        record: record.clone(),
    }
}

/// Name of the attached full report.
pub fn file_name(lsid: &str) -> String {
    let safe: String = lsid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("beyondtrust-session-{safe}.html")
}

fn attachment_line(name: &str) -> String {
    format!(
        "<p><strong>Full report attached:</strong> {} (every chat line and all System Information).</p>",
        handlebars::html_escape(name)
    )
}

/// A standalone HTML document around the rendered report.
fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n{body}\n</body></html>\n",
        handlebars::html_escape(title)
    )
}

/// What to post for a session end. `render` is the (possibly overridden) session template;
/// `view` is the whole report, `categories` the System Information shown in the comment.
pub fn plan_session(
    view: &SessionView,
    record: &Marker,
    categories: &[String],
    max_chars: usize,
    render: impl Fn(&SessionView) -> Result<String, RenderError>,
) -> Result<Plan, PlanError> {
    let mut limited = view.clone();
    render::limit_system_information(&mut limited, categories);
    let html = render(&limited)?;
    let single = finish(&html, record);
    if chars(&single.html) <= max_chars {
        return Ok(Plan::Single(single));
    }
    let full = render(view)?;
    let name = file_name(&view.lsid);
    let fallback = split(&full, record, max_chars);
    let file = PlannedFile {
        html: document(&format!("BeyondTrust session {}", view.lsid), &full),
        name: name.clone(),
    };
    let line = attachment_line(&name);
    // The latest `keep` transcript entries, as many as fit (binary search: rendering is cheap).
    let trimmed = |mut v: SessionView, keep: usize| -> Result<PlannedComment, RenderError> {
        let total = v.transcript.len();
        v.transcript.drain(..total - keep.min(total));
        v.transcript_omitted = total - keep.min(total);
        let body = render(&v)?;
        Ok(finish(&format!("{body}\n{line}"), record))
    };
    for candidate in [limited.clone(), {
        // Still too long without any chat: leave System Information to the attachment too.
        let mut v = limited.clone();
        let names = v.system_information.drain(..).map(|c| c.name);
        for n in names.collect::<Vec<_>>() {
            if !v.system_information_omitted.contains(&n) {
                v.system_information_omitted.push(n);
            }
        }
        v
    }] {
        let fits = |c: &PlannedComment| chars(&c.html) <= max_chars;
        let none = trimmed(candidate.clone(), 0)?;
        if !fits(&none) {
            continue;
        }
        let (mut lo, mut hi) = (0usize, candidate.transcript.len());
        let mut best = none;
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let c = trimmed(candidate.clone(), mid)?;
            if fits(&c) {
                best = c;
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return Ok(Plan::Attached {
            file,
            comment: best,
            fallback,
        });
    }
    Ok(Plan::Split(fallback))
}

/// What to post for an already rendered comment (surveys): one comment, or parts if too long.
pub fn plan_html(html: &str, record: &Marker, max_chars: usize) -> Plan {
    let single = finish(html, record);
    if chars(&single.html) <= max_chars {
        Plan::Single(single)
    } else {
        Plan::Split(split(html, record, max_chars))
    }
}

fn part_heading(n: usize, of: usize) -> String {
    format!("<p><em>Session report, part {n} of {of}.</em></p>\n")
}

/// The report in parts of at most `max_chars` characters each, heading and record included.
fn split(html: &str, record: &Marker, max_chars: usize) -> Vec<PlannedComment> {
    let widest = Marker {
        part: Some((9999, 9999)),
        ..record.clone()
    };
    let overhead =
        chars(&finish("", &widest).html) + chars(&part_heading(9999, 9999)) + CLOSE_MARGIN;
    let room = max_chars.saturating_sub(overhead).max(1000);
    let bodies = split_html(html, room);
    let of = bodies.len();
    bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let r = Marker {
                part: Some((i as u32 + 1, of as u32)),
                ..record.clone()
            };
            finish(&format!("{}{body}", part_heading(i + 1, of)), &r)
        })
        .collect()
}

const VOID: [&str; 9] = [
    "br", "hr", "img", "input", "meta", "link", "wbr", "col", "source",
];

/// Open elements after `text`, given those open before (`(name, opening tag)`).
fn track(stack: &mut Vec<(String, String)>, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        let Some(len) = rest[at..].find('>') else {
            break;
        };
        let tag = &rest[at..at + len + 1];
        rest = &rest[at + len + 1..];
        let inner = tag[1..tag.len() - 1].trim();
        if inner.starts_with('!') || inner.starts_with('?') || inner.ends_with('/') {
            continue;
        }
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            if let Some(pos) = stack.iter().rposition(|(n, _)| *n == name) {
                stack.truncate(pos);
            }
            continue;
        }
        let name: String = inner
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !name.is_empty() && !VOID.contains(&name.as_str()) {
            stack.push((name, tag.to_string()));
        }
    }
}

/// Pieces of `line` of at most `room` characters, cut outside tags and entities (preferably
/// after a tag or a space).
fn pieces(line: &str, room: usize) -> Vec<String> {
    if chars(line) <= room {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut n = 0;
    let mut in_tag = false;
    let mut in_entity = false;
    let mut last_safe: Option<usize> = None; // byte index in cur after a safe cut point
    for c in line.chars() {
        cur.push(c);
        n += 1;
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            '&' if !in_tag => in_entity = true,
            ';' if in_entity => in_entity = false,
            _ => {}
        }
        if !in_tag && !in_entity && (c == '>' || c == ' ') {
            last_safe = Some(cur.len());
        }
        if n >= room && !in_tag && !in_entity {
            let cut = last_safe
                .filter(|&b| b > cur.len() / 2)
                .unwrap_or(cur.len());
            let tail = cur.split_off(cut);
            out.push(std::mem::take(&mut cur));
            cur = tail;
            n = chars(&cur);
            last_safe = None;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits HTML into bodies of at most about `room` characters at line boundaries (long lines at
/// tag or word boundaries), closing the elements open at each cut and reopening them in the
/// next body, so every part is well-formed and together they hold all the text.
pub fn split_html(html: &str, room: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut cur = String::new();
    let mut len = 0;
    let mut has_content = false;
    for line in html.split_inclusive('\n') {
        for piece in pieces(line, room / 2) {
            let n = chars(&piece);
            if has_content && len + n > room {
                for (name, _) in stack.iter().rev() {
                    cur.push_str(&format!("</{name}>"));
                }
                parts.push(std::mem::take(&mut cur));
                for (_, open) in &stack {
                    cur.push_str(open);
                }
                len = chars(&cur);
                has_content = false;
            }
            track(&mut stack, &piece);
            cur.push_str(&piece);
            len += n;
            has_content |= !piece.trim().is_empty();
        }
    }
    if has_content || parts.is_empty() {
        parts.push(cur);
    }
    parts
}

/// What [`deliver`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Comments posted now (those an earlier attempt posted are not counted).
    Posted { comments: usize, attached: bool },
    /// An earlier attempt had posted everything.
    AlreadyThere,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The claim was taken over by another worker, or the middleware is shutting down while
    /// waiting for a rate-limit slot: give the event back.
    #[error("claim lost to another worker, or shutting down")]
    Released,
}

/// What must hold before each ticket update: its rate-limit slot taken (the wait can be long,
/// so it comes before anything is recorded), then the claim renewed for a whole lease, so no
/// other worker can take the event over while the update is in flight.
pub struct Gate<'a> {
    pub lease: std::time::Duration,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    pub store: &'a Store,
}

impl Gate<'_> {
    async fn pass(&mut self, zd: &ZendeskClient, e: &StoredEvent) -> Result<Slot, DeliverError> {
        // Biased: a slot that is free now wins; shutdown only releases an event still waiting.
        let slot = tokio::select! {
            biased;
            slot = zd.take_slot() => slot,
            _ = self.shutdown.wait_for(|s| *s) => return Err(DeliverError::Released),
        };
        if !self.store.renew_lease(e, self.lease).await? {
            return Err(DeliverError::Released);
        }
        Ok(slot)
    }
}

/// Ticket-level changes that travel with the event's first comment.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub tags: Vec<String>,
    pub custom_fields: Vec<(u64, serde_json::Value)>,
    /// A new ticket status (a survey rule's), set by the same update as the comment.
    pub status: Option<String>,
}

/// Posts the plan on `ticket`, each comment exactly once. If an earlier attempt may have posted
/// (its marker is stored), the ticket's comments are searched first and only what is missing is
/// posted (the worker schedules that attempt at least one HTTP timeout after an uncertain one,
/// since Zendesk can apply an update after the caller gave up waiting). Each PUT first passes
/// the [`Gate`]; the marker is recorded after the first slot is taken. The full report
/// is uploaded before the PUT; a refused upload (4xx other than 429) falls back to the parts.
/// Tags, custom fields and a status change go in the first comment's PUT.
pub async fn deliver(
    zd: &ZendeskClient,
    mut gate: Gate<'_>,
    e: &StoredEvent,
    ticket: u64,
    plan: &Plan,
    extras: &Extras,
) -> Result<Delivered, DeliverError> {
    let store = gate.store;
    let first = plan.comments()[0].record.clone();
    let identity = Marker {
        part: None,
        ..first.clone()
    };
    let legacy = render::legacy_marker(&e.appliance_id, &e.lsid, &e.event_type, &e.event_timestamp);
    let expected = match plan {
        Plan::Single(_) => 1,
        Plan::Split(parts) => parts.len(),
        Plan::Attached { fallback, .. } => fallback.len(),
    };
    let found = match &e.comment_marker {
        Some(_) => {
            zd.find_records(ticket, &identity, &legacy, expected)
                .await?
        }
        None => Vec::new(),
    };
    if found.iter().any(|m| m.part.is_none()) {
        return Ok(Delivered::AlreadyThere);
    }
    let (comments, upload): (Vec<PlannedComment>, Option<&PlannedFile>) = match plan {
        Plan::Single(c) => (vec![c.clone()], None),
        Plan::Split(parts) => (parts.clone(), None),
        // An earlier attempt fell back to parts: finish those.
        Plan::Attached { fallback, .. } if !found.is_empty() => (fallback.clone(), None),
        Plan::Attached { file, comment, .. } => (vec![comment.clone()], Some(file)),
    };
    let mut comments = comments;
    let mut token = None;
    if let Some(file) = upload {
        match zd
            .upload(
                &file.name,
                "text/html; charset=utf-8",
                file.html.clone().into_bytes(),
            )
            .await
        {
            Ok(t) => token = Some(t),
            Err(ZendeskError::Permanent { status, message }) => {
                tracing::warn!(
                    id = e.id,
                    status,
                    error = %message,
                    "Zendesk refused the report attachment; posting the report in parts"
                );
                if let Plan::Attached { fallback, .. } = plan {
                    comments = fallback.clone();
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    let missing: Vec<&PlannedComment> = comments
        .iter()
        .filter(|c| !found.iter().any(|m| m.same_comment(&c.record)))
        .collect();
    if missing.is_empty() {
        return Ok(Delivered::AlreadyThere);
    }
    let mut posted = 0;
    for (i, c) in missing.iter().enumerate() {
        let slot = gate.pass(zd, e).await?;
        if i == 0 && !store.set_marker(e, &identity.key(), ticket).await? {
            return Err(DeliverError::Released);
        }
        let is_first = c.record.part.is_none_or(|(n, _)| n == 1);
        let update = TicketUpdate {
            html_body: c.html.clone(),
            uploads: token.iter().cloned().collect(),
            additional_tags: if is_first {
                extras.tags.clone()
            } else {
                vec![]
            },
            custom_fields: if is_first {
                extras.custom_fields.clone()
            } else {
                vec![]
            },
            status: if is_first {
                extras.status.clone()
            } else {
                None
            },
        };
        if let Err(err) = zd.update_ticket_in(slot, ticket, &update).await {
            // Nothing of this event can be on the ticket: the next attempt need not look.
            if !err.may_have_applied() && posted == 0 && found.is_empty() {
                store.clear_marker(e).await?;
            }
            return Err(err.into());
        }
        posted += 1;
    }
    Ok(Delivered::Posted {
        comments: posted,
        attached: token.is_some(),
    })
}

#[cfg(test)]
mod tests;
