//! Comment rendering: Handlebars templates to Zendesk `html_body`.
//!
//! Three templates are built in (`session.hbs`, `customer-survey.hbs`, `rep-survey.hbs`); each
//! can be overridden by a file of the same name in `templates_dir`. Overrides are compiled and
//! trial-rendered at start, so a broken one stops the server with the file name and Handlebars'
//! message instead of failing at 3 a.m.
//!
//! Escaping: every value reaches the template as text and `{{ }}` escapes it. The built-in
//! templates never use `{{{ }}}`; the exactly-once marker is appended here, outside the
//! template, so an override cannot drop it.

pub mod view;

use std::path::{Path, PathBuf};

use app_core::marker::Marker;
use handlebars::Handlebars;
use serde::Serialize;

pub use view::{
    limit_system_information, session_view, survey_rating, survey_view, SessionView, SurveyView,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Session,
    CustomerSurvey,
    RepSurvey,
}

impl Template {
    pub const ALL: [Template; 3] = [
        Template::Session,
        Template::CustomerSurvey,
        Template::RepSurvey,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Session => "session.hbs",
            Self::CustomerSurvey => "customer-survey.hbs",
            Self::RepSurvey => "rep-survey.hbs",
        }
    }

    fn builtin(self) -> &'static str {
        match self {
            Self::Session => include_str!("templates/session.hbs"),
            Self::CustomerSurvey => include_str!("templates/customer-survey.hbs"),
            Self::RepSurvey => include_str!("templates/rep-survey.hbs"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {file}: {message}")]
    Template { file: String, message: String },
    #[error("rendering {template} failed: {message}")]
    Render {
        template: &'static str,
        message: String,
    },
}

pub struct Renderer {
    hb: Handlebars<'static>,
    /// Where each template came from, for messages.
    sources: Vec<(Template, String)>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("sources", &self.sources)
            .finish()
    }
}

/// The pre-record reference (`rsz:<appliance>:<lsid>:<event_type>[:<timestamp>]`) that comments
/// posted by earlier versions end with; the exactly-once lookup still recognises it.
pub fn legacy_marker(appliance_id: &str, lsid: &str, event_type: &str, timestamp: &str) -> String {
    let base = format!("rsz:{appliance_id}:{lsid}:{event_type}");
    let ts = timestamp.trim();
    if event_type == crate::config::SESSION_END
        || ts.is_empty()
        || !ts.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        base
    } else {
        format!("{base}:{ts}")
    }
}

/// The identity of one stored event's comment(s) as a session record ([`app_core::marker`]).
/// A session ends once (polled and outbound ends share it); other events (a survey per
/// customer) add their outbound timestamp.
pub fn event_record(appliance_id: &str, lsid: &str, event_type: &str, timestamp: &str) -> Marker {
    let ts = timestamp.trim();
    let mut m = Marker::new(appliance_id, lsid, event_type);
    if event_type != crate::config::SESSION_END
        && !ts.is_empty()
        && ts.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        m.ts = Some(ts.to_string());
    }
    m
}

/// Whether `text` carries exactly `marker` (not merely a longer marker starting with it).
pub fn contains_marker(text: &str, marker: &str) -> bool {
    text.match_indices(marker).any(|(at, m)| {
        !text[at + m.len()..]
            .starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.'))
    })
}

/// Appends the session record line, small (HTML comments and data attributes do not survive
/// Zendesk's sanitizer; small visible text does, in both `html_body` and `body`). Appended
/// outside the template so an override cannot drop it.
pub fn with_marker(html: &str, record_line: &str) -> String {
    // Not Handlebars' escaping: it would turn the record's `=` into `&#x3D;`.
    let escaped = record_line
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!("{html}\n<p><small>{escaped}</small></p>")
}

impl Renderer {
    /// Built-in templates only.
    pub fn builtin() -> Self {
        Self::new(None).expect("built-in templates compile")
    }

    /// Built-ins overridden one by one from `templates_dir` (missing files keep the built-in).
    pub fn new(templates_dir: Option<&Path>) -> Result<Self, RenderError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(false);
        let mut sources = Vec::new();
        for t in Template::ALL {
            let override_path: Option<PathBuf> = templates_dir
                .map(|d| d.join(t.file_name()))
                .filter(|p| p.is_file());
            let (text, source) = match &override_path {
                Some(p) => {
                    let text = std::fs::read_to_string(p).map_err(|e| RenderError::Template {
                        file: p.display().to_string(),
                        message: e.to_string(),
                    })?;
                    (text, p.display().to_string())
                }
                None => (
                    t.builtin().to_string(),
                    format!("built-in {}", t.file_name()),
                ),
            };
            hb.register_template_string(t.file_name(), text)
                .map_err(|e| RenderError::Template {
                    file: source.clone(),
                    message: e.to_string(),
                })?;
            sources.push((t, source));
        }
        let r = Self { hb, sources };
        r.trial_render()?;
        Ok(r)
    }

    /// Renders every template once with sample data so unknown helpers and the like surface now.
    fn trial_render(&self) -> Result<(), RenderError> {
        let session = SessionView {
            lsid: "trial".into(),
            ..Default::default()
        };
        let survey = SurveyView {
            lsid: "trial".into(),
            ..Default::default()
        };
        for (t, source) in &self.sources {
            let result = match t {
                Template::Session => self.hb.render(t.file_name(), &session),
                _ => self.hb.render(t.file_name(), &survey),
            };
            result.map_err(|e| RenderError::Template {
                file: source.clone(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    pub fn render<T: Serialize>(
        &self,
        template: Template,
        data: &T,
    ) -> Result<String, RenderError> {
        self.hb
            .render(template.file_name(), data)
            .map_err(|e| RenderError::Render {
                template: template.file_name(),
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod marker_tests {
    use super::*;

    #[test]
    fn survey_records_are_per_event_and_session_end_records_per_session() {
        let end = event_record("a", "l", "support_conference_end", "17");
        assert_eq!(end.ts, None);
        let survey = "support_conference_customer_exit_survey_completed";
        assert_eq!(
            event_record("a", "l", survey, "17").ts.as_deref(),
            Some("17")
        );
        assert_eq!(event_record("a", "l", survey, "").ts, None);
        assert_eq!(
            legacy_marker("a", "l", survey, "17"),
            format!("rsz:a:l:{survey}:17")
        );
    }

    #[test]
    fn legacy_marker_match_needs_a_boundary() {
        let body = "x\nRef: rsz:a:l:ev:17\n";
        assert!(contains_marker(body, "rsz:a:l:ev:17"));
        assert!(
            !contains_marker(body, "rsz:a:l:ev"),
            "a longer marker is another event"
        );
        assert!(!contains_marker(body, "rsz:a:l:ev:1"));
    }

    #[test]
    fn the_record_line_is_found_again_in_the_comment() {
        let m = event_record("a b", "l", "support_conference_end", "");
        let html = with_marker("<p>x</p>", &m.to_line());
        assert_eq!(app_core::marker::find_all(&html), vec![m]);
    }
}
