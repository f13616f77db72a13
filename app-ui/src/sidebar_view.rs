//! The sidebar's root view: one sub-view per phase. Props only: the host owns the state.

use yew::prelude::*;

use crate::invalid_view::InvalidView;
use crate::message_view::MessageView;
use crate::ready_view::ReadyView;
use crate::state::{Phase, Sidebar};

#[derive(Properties, PartialEq)]
pub struct SidebarViewProps {
    pub state: Sidebar,
    /// Opens a client-script URL (see `ReadyView`).
    pub on_launch: Callback<String, crate::LaunchOutcome>,
    /// Opens "Customize Help Center" as a host modal (see `ReadyView`).
    #[prop_or_default]
    pub on_customize_help_center: Option<Callback<()>>,
    /// Zendesk API access for the ready sidebar (see `ReadyView`).
    #[prop_or_default]
    pub api: Option<crate::key_panel::SidebarApi>,
}

/// A stable name of the phase, exposed as `data-phase` for tests and the render benchmark.
pub fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Loading => "loading",
        Phase::NotSaved => "not-saved",
        Phase::Invalid(_) => "invalid",
        Phase::Ready { .. } => "ready",
        Phase::Failed => "failed",
    }
}

#[function_component]
pub fn SidebarView(props: &SidebarViewProps) -> Html {
    let state = &props.state;
    let i18n = state.i18n;
    let body = match (&state.phase, &state.settings) {
        (Phase::Loading, _) => html! { <MessageView text={i18n.t("ui.loading")} /> },
        (Phase::NotSaved, _) => html! { <MessageView text={i18n.t("ui.not_saved")} /> },
        (Phase::Failed, _) => html! { <MessageView text={i18n.t("ui.load_failed")} /> },
        (Phase::Invalid(problems), _) => {
            html! { <InvalidView problems={problems.clone()} {i18n} /> }
        }
        (Phase::Ready { ticket_id }, Some(settings)) => html! {
            <ReadyView settings={settings.clone()} ticket_id={*ticket_id} {i18n}
                is_admin={state.is_admin} on_launch={props.on_launch.clone()}
                on_customize_help_center={props.on_customize_help_center.clone()}
                api={props.api.clone()} />
        },
        (Phase::Ready { .. }, None) => html! { <MessageView text={i18n.t("ui.load_failed")} /> },
    };
    html! {
        <main class="rs-app" lang={i18n.locale()} data-phase={phase_name(&state.phase)}>{ body }</main>
    }
}
