//! Which comment templates are active (built-in or an override file in `templates_dir`) and a
//! preview of each, rendered against a built-in sample session or against the session of a
//! stored event (its report fetched from the appliance, as the worker would).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use super::pages::{esc, layout};
use super::AdminState;
use crate::app::Shared;
use crate::beyondtrust::model::{parse_exit_survey_list, parse_session_list};
use crate::beyondtrust::{ExitSurvey, Session, SurveyKind};
use crate::check::explain_appliance;
use crate::render::{session_view, survey_view, Template};

/// The sample shown without an event: the project's reconstructed Remote Support reports.
const SAMPLE_SESSION: &str =
    include_str!("../../tests/fixtures/rs-SupportSession.reconstructed.xml");
const SAMPLE_SURVEYS: &str =
    include_str!("../../tests/fixtures/rs-exit_survey_list.reconstructed.xml");

#[derive(Debug, Serialize)]
pub struct TemplatePreview {
    pub file: &'static str,
    /// `built-in` or the override file's path.
    pub active: String,
    /// What the preview was rendered against.
    pub data: String,
    /// The rendered comment (HTML, values escaped by the template engine), or why it failed.
    pub html: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("there is no event {0}")]
    NoEvent(i64),
    #[error("event {id}'s configuration {name:?} no longer exists")]
    NoConfiguration { id: i64, name: String },
    #[error("the session report of {lsid} could not be fetched: {reason}")]
    Appliance { lsid: String, reason: String },
    #[error("the appliance has no session report for {0}")]
    NoSession(String),
    #[error("the database could not be read; see the middleware log")]
    Store(#[from] crate::store::StoreError),
}

fn title(t: Template) -> &'static str {
    match t {
        Template::Session => "Session report",
        Template::CustomerSurvey => "Customer exit survey",
        Template::RepSurvey => "Representative exit survey",
    }
}

/// Where each template comes from, the way [`crate::render::Renderer::new`] chooses it.
pub fn active_source(shared: &Shared, t: Template) -> String {
    match shared
        .config
        .server
        .templates_dir
        .as_deref()
        .map(|d| d.join(t.file_name()))
        .filter(|p| p.is_file())
    {
        Some(p) => p.display().to_string(),
        None => "built-in".to_string(),
    }
}

fn sample() -> (Session, Vec<ExitSurvey>) {
    let session = parse_session_list(SAMPLE_SESSION)
        .ok()
        .and_then(|mut l| l.pop())
        .unwrap_or_default();
    let surveys = parse_exit_survey_list(SAMPLE_SURVEYS).unwrap_or_default();
    (session, surveys)
}

/// Previews of every template; with `event`, against that event's session as the appliance
/// reports it now.
pub async fn previews(
    shared: &Shared,
    event: Option<i64>,
) -> Result<Vec<TemplatePreview>, PreviewError> {
    let (session, customer, rep, what, appliance_id) = match event {
        None => {
            let (s, surveys) = sample();
            (
                s,
                surveys.clone(),
                surveys,
                "the built-in sample session".to_string(),
                "default".to_string(),
            )
        }
        Some(id) => {
            let e = shared
                .store
                .event(id)
                .await?
                .ok_or(PreviewError::NoEvent(id))?;
            let rt =
                shared
                    .runtime(&e.configuration)
                    .ok_or_else(|| PreviewError::NoConfiguration {
                        id,
                        name: e.configuration.clone(),
                    })?;
            let failed = |err: crate::beyondtrust::ApplianceError| PreviewError::Appliance {
                lsid: e.lsid.clone(),
                reason: explain_appliance(&err, &rt.cfg.beyondtrust),
            };
            let session = rt
                .appliance
                .support_session(&e.lsid)
                .await
                .map_err(failed)?
                .ok_or_else(|| PreviewError::NoSession(e.lsid.clone()))?;
            let customer = rt
                .appliance
                .exit_surveys(SurveyKind::Customer, &e.lsid)
                .await
                .map_err(failed)?;
            let rep = rt
                .appliance
                .exit_surveys(SurveyKind::Representative, &e.lsid)
                .await
                .map_err(failed)?;
            (
                session,
                customer,
                rep,
                format!("the session {} of event {id}", e.lsid),
                rt.cfg.appliance_id.clone(),
            )
        }
    };
    let mut out = Vec::new();
    for t in Template::ALL {
        let (data, rendered) = match t {
            Template::Session => (
                what.clone(),
                shared
                    .renderer
                    .render(t, &session_view(&session, &appliance_id)),
            ),
            _ => {
                let surveys = if t == Template::CustomerSurvey {
                    &customer
                } else {
                    &rep
                };
                if surveys.is_empty() {
                    out.push(TemplatePreview {
                        file: t.file_name(),
                        active: active_source(shared, t),
                        data: what.clone(),
                        html: None,
                        error: Some(format!("{what} has no {} to show", title(t).to_lowercase())),
                    });
                    continue;
                }
                let mut html = String::new();
                let mut result = Ok(());
                for s in surveys {
                    match shared.renderer.render(t, &survey_view(s, title(t))) {
                        Ok(part) => html.push_str(&part),
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                (what.clone(), result.map(|_| html))
            }
        };
        let (html, error) = match rendered {
            Ok(h) => (Some(h), None),
            Err(e) => (None, Some(e.to_string())),
        };
        out.push(TemplatePreview {
            file: t.file_name(),
            active: active_source(shared, t),
            data,
            html,
            error,
        });
    }
    Ok(out)
}

/// `?event=ID`: a number, or absent/empty for the sample.
fn event_param(q: &HashMap<String, String>) -> Result<Option<i64>, String> {
    match q.get("event").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .trim_start_matches('#')
            .parse()
            .map(Some)
            .map_err(|_| format!("{s:?} is not an event id (a number from the Events page)")),
    }
}

fn status_of(e: &PreviewError) -> StatusCode {
    match e {
        PreviewError::NoEvent(_) | PreviewError::NoConfiguration { .. } => StatusCode::NOT_FOUND,
        PreviewError::NoSession(_) => StatusCode::NOT_FOUND,
        PreviewError::Appliance { .. } => StatusCode::BAD_GATEWAY,
        PreviewError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `GET /api/templates?event=ID`
pub async fn api(
    State(state): State<Arc<AdminState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let event = match event_param(&q) {
        Ok(e) => e,
        Err(m) => return (StatusCode::BAD_REQUEST, Json(json!({ "error": m }))).into_response(),
    };
    match previews(&state.shared, event).await {
        Ok(p) => Json(json!({ "templates": p })).into_response(),
        Err(e) => (status_of(&e), Json(json!({ "error": e.to_string() }))).into_response(),
    }
}

/// `GET /templates?event=ID`
pub async fn page(
    State(state): State<Arc<AdminState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let raw = q.get("event").cloned().unwrap_or_default();
    let mut body = format!(
        "<h2>Templates</h2><form method=\"get\" action=\"/templates\" class=\"search\"><label>Preview against event id \
         <input type=\"search\" name=\"event\" id=\"preview-event\" value=\"{}\"></label> <button>Preview</button> \
         <a href=\"/templates\">sample session</a></form>",
        esc(raw.trim())
    );
    let (status, previews) = match event_param(&q) {
        Err(m) => (StatusCode::BAD_REQUEST, Err(m)),
        Ok(event) => match previews(&state.shared, event).await {
            Ok(p) => (StatusCode::OK, Ok(p)),
            Err(e) => {
                if let PreviewError::Store(s) = &e {
                    tracing::error!(error = %s, "admin: template preview failed");
                }
                (status_of(&e), Err(e.to_string()))
            }
        },
    };
    match previews {
        Err(m) => {
            let _ = write!(
                body,
                "<div class=\"card\"><p class=\"bad\" id=\"preview-error\">{}</p></div>",
                esc(&m)
            );
        }
        Ok(list) => {
            for p in list {
                let _ = write!(
                    body,
                    "<div class=\"card template\" data-file=\"{file}\"><h2>{file}</h2><dl><dt>Active</dt><dd class=\"active-source\">{active}</dd>\
                     <dt>Rendered against</dt><dd>{data}</dd></dl>",
                    file = esc(p.file),
                    active = esc(&p.active),
                    data = esc(&p.data),
                );
                match (&p.html, &p.error) {
                    (Some(html), _) => {
                        // The comment as Zendesk will get it: values escaped by the template
                        // engine, and this page's policy runs no script and loads nothing.
                        let _ = write!(body, "<div class=\"preview\">{html}</div>");
                    }
                    (None, Some(e)) => {
                        let _ = write!(body, "<p class=\"muted\">{}</p>", esc(e));
                    }
                    (None, None) => {}
                }
                body.push_str("</div>");
            }
        }
    }
    (status, Html(layout("Templates", &body, true))).into_response()
}
