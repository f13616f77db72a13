//! The ready sidebar: Generate Session Key, the Jump panel, and the notice of the last launch
//! under the button that started it.

use app_core::settings::Settings;
use app_core::urls;
use std::rc::Rc;
use yew::prelude::*;

use crate::i18n::I18n;
use crate::jump_panel::JumpPanel;
use crate::launch_notice::{Launch, LaunchNotice, LaunchOutcome, LaunchSource};
use crate::message_view::MessageView;
use crate::session_key_button::SessionKeyButton;

#[derive(Properties, PartialEq)]
pub struct ReadyViewProps {
    pub settings: Rc<Settings>,
    pub ticket_id: u64,
    pub i18n: I18n,
    /// The agent is a Zendesk admin (admin-only tools render below the agent's tools).
    pub is_admin: bool,
    /// Opens a client-script URL (the host decides how) and says whether the browser let it.
    /// Called synchronously inside the agent's click, so the host keeps the user activation.
    pub on_launch: Callback<String, LaunchOutcome>,
    /// Opens "Customize Help Center" (the host opens a modal); `None`: the dialog in the frame.
    #[prop_or_default]
    pub on_customize_help_center: Option<Callback<()>>,
    /// Zendesk API access: the session key card (API mode) and this ticket's sessions.
    #[prop_or_default]
    pub api: Option<crate::key_panel::SidebarApi>,
}

/// A launch request from a button: where it came from, its URL and its fallback link text.
pub type LaunchRequest = (LaunchSource, String, String);

#[function_component]
pub fn ReadyView(props: &ReadyViewProps) -> Html {
    let launched = use_state(|| None::<Launch>);
    let seq = use_mut_ref(|| 0u32);
    let i18n = props.i18n;
    let launch = {
        let (launched, on_launch) = (launched.clone(), props.on_launch.clone());
        Callback::from(move |(source, url, label): LaunchRequest| {
            let outcome = on_launch.emit(url.clone());
            *seq.borrow_mut() += 1;
            let seq = *seq.borrow();
            launched.set(Some(Launch {
                source,
                url: url.into(),
                outcome,
                label: label.into(),
                seq,
            }));
        })
    };
    let session_key = {
        let (launch, host, ticket_id) = (
            launch.clone(),
            props.settings.hostname.clone(),
            props.ticket_id,
        );
        Callback::from(move |()| {
            let label = i18n.format(
                "ui.launch.link_session_key",
                &[("ticket", ticket_id.to_string())],
            );
            launch.emit((
                LaunchSource::SessionKey,
                urls::generate_session_key(&host, ticket_id),
                label,
            ))
        })
    };
    // Any edit of the Jump form (or a failed attempt) makes a Jump notice stale: it no longer
    // describes what the form would launch.
    let on_jump_edit = {
        let launched = launched.clone();
        Callback::from(move |()| {
            if launched
                .as_ref()
                .is_some_and(|l| l.source == LaunchSource::Jump)
            {
                launched.set(None);
            }
        })
    };
    let notice_for = |source: LaunchSource| match &*launched {
        Some(launch) if launch.source == source => {
            html! { <LaunchNotice {i18n} launch={launch.clone()} /> }
        }
        _ => html! {},
    };
    html! {
        <>
            if let Some(api) = props.api.clone() {
                // API mode: the console dialog is the fallback, launched the same way (a top-level
                // open in the click) with its notice under the fallback button.
                <crate::api_sections::ApiSections {i18n} {api} ticket_id={props.ticket_id}
                    on_console={session_key} console_notice={notice_for(LaunchSource::SessionKey)} />
            } else {
                <SessionKeyButton {i18n} onclick={session_key}>
                    { notice_for(LaunchSource::SessionKey) }
                </SessionKeyButton>
            }
            if props.settings.jump_types.is_empty() {
                <MessageView text={i18n.t("ui.jump.none_enabled")} />
            } else {
                <JumpPanel settings={props.settings.clone()} ticket_id={props.ticket_id} {i18n}
                    on_launch={launch.reform(|(url, label): (String, String)| (LaunchSource::Jump, url, label))}
                    on_edit={on_jump_edit}>
                    { notice_for(LaunchSource::Jump) }
                </JumpPanel>
            }
            // Admin-only tools go below this line.
            if props.is_admin {
                <crate::help_center_dialog::HelpCenterTool settings={props.settings.clone()} {i18n}
                    on_open={props.on_customize_help_center.clone()} />
            }
        </>
    }
}
