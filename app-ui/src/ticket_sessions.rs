//! "Sessions on this ticket": one line per session (date, representative, duration, survey),
//! linking to its report comment; keys generated here and not yet used show as waiting.
//! Loading, error and empty states each have their own translated text.

use app_core::ticket_sessions::{date_text, duration_text};
use yew::prelude::*;

use crate::i18n::I18n;
use crate::key_panel::{IssuedKey, SessionsState};

/// What the list renders from (a plain view function, like the key card).
pub struct TicketSessionsProps {
    pub i18n: I18n,
    pub state: SessionsState,
    pub waiting: Vec<IssuedKey>,
    pub comment_href: Callback<u64, String>,
    pub on_reload: Callback<()>,
}

fn state_name(state: &SessionsState, waiting: usize) -> &'static str {
    match state {
        SessionsState::Loading => "loading",
        SessionsState::Failed => "error",
        SessionsState::Loaded(rows) if rows.is_empty() && waiting == 0 => "empty",
        SessionsState::Loaded(_) => "list",
    }
}

pub fn ticket_sessions(props: &TicketSessionsProps) -> Html {
    let i18n = props.i18n;
    let reload = props.on_reload.reform(|_: MouseEvent| ());
    let waiting = props.waiting.iter().map(|k| {
        html! {
            <li class="rs-session rs-waiting" data-key={k.short_key.clone()}>
                { i18n.format("ui.sessions.waiting", &[("key", k.short_key.clone())]) }
            </li>
        }
    });
    let body = match &props.state {
        SessionsState::Loading => html! {
            <p class="rs-hint" role="status">{ i18n.t("ui.sessions.loading") }</p>
        },
        SessionsState::Failed => html! {
            <p class="rs-alert" role="alert">{ i18n.t("ui.sessions.failed") }</p>
        },
        SessionsState::Loaded(rows) if rows.is_empty() && props.waiting.is_empty() => html! {
            <p class="rs-hint">{ i18n.t("ui.sessions.empty") }</p>
        },
        SessionsState::Loaded(rows) => {
            let rows = rows.iter().map(|r| {
                let href = props.comment_href.emit(r.comment_id);
                let mut details = vec![r
                    .rep
                    .clone()
                    .unwrap_or_else(|| i18n.t("ui.sessions.unknown_rep").to_string())];
                if let Some(d) = r.duration_secs {
                    details.push(duration_text(d));
                }
                if let Some(score) = &r.survey {
                    details.push(i18n.format("ui.sessions.survey", &[("score", score.clone())]));
                }
                html! {
                    <li class="rs-session" data-lsid={r.lsid.clone()}>
                        <a class="rs-session-date" {href} target="_blank" rel="noopener noreferrer"
                            title={i18n.t("ui.sessions.open")}>{ date_text(&r.when) }</a>
                        <span class="rs-session-details">{ details.join(" · ") }</span>
                    </li>
                }
            });
            html! { <ul class="rs-sessions">{ for waiting }{ for rows }</ul> }
        }
    };
    html! {
        <section class="rs-section" id="rs-sessions" aria-labelledby="rs-sessions-title"
            data-state={state_name(&props.state, props.waiting.len())} aria-busy={(props.state == SessionsState::Loading).to_string()}>
            <h2 class="rs-h" id="rs-sessions-title">{ i18n.t("ui.sessions.title") }</h2>
            { body }
            if props.state != SessionsState::Loading {
                <button type="button" class="rs-btn rs-btn-link" id="rs-sessions-reload" onclick={reload}>
                    { i18n.t(if props.state == SessionsState::Failed { "ui.sessions.retry" } else { "ui.sessions.refresh" }) }
                </button>
            }
        </section>
    }
}
