//! The ready sidebar: Generate Session Key, the Jump panel, and the launch confirmation.

use app_core::settings::Settings;
use app_core::urls;
use std::rc::Rc;
use yew::prelude::*;

use crate::i18n::I18n;
use crate::jump_panel::JumpPanel;
use crate::launch_notice::LaunchNotice;
use crate::message_view::MessageView;
use crate::session_key_button::SessionKeyButton;

#[derive(Properties, PartialEq)]
pub struct ReadyViewProps {
    pub settings: Rc<Settings>,
    pub ticket_id: u64,
    pub i18n: I18n,
    /// The agent is a Zendesk admin (admin-only tools render below the agent's tools).
    pub is_admin: bool,
    /// Opens a client-script URL (the host decides how).
    pub on_launch: Callback<String>,
    /// Zendesk API access: the session key card (API mode) and this ticket's sessions.
    #[prop_or_default]
    pub api: Option<crate::key_panel::SidebarApi>,
}

#[function_component]
pub fn ReadyView(props: &ReadyViewProps) -> Html {
    let launched = use_state(|| None::<AttrValue>);
    let i18n = props.i18n;
    let launch = {
        let (launched, on_launch) = (launched.clone(), props.on_launch.clone());
        Callback::from(move |url: String| {
            on_launch.emit(url.clone());
            launched.set(Some(url.into()));
        })
    };
    let session_key = {
        let (launch, host, ticket_id) = (
            launch.clone(),
            props.settings.hostname.clone(),
            props.ticket_id,
        );
        Callback::from(move |()| launch.emit(urls::generate_session_key(&host, ticket_id)))
    };
    html! {
        <>
            if let Some(api) = props.api.clone() {
                <crate::api_sections::ApiSections {i18n} {api} ticket_id={props.ticket_id} on_console={session_key} />
            } else {
                <SessionKeyButton {i18n} onclick={session_key} />
            }
            if props.settings.jump_types.is_empty() {
                <MessageView text={i18n.t("ui.jump.none_enabled")} />
            } else {
                <JumpPanel settings={props.settings.clone()} ticket_id={props.ticket_id} {i18n} on_launch={launch} />
            }
            if let Some(url) = (*launched).clone() {
                <LaunchNotice {i18n} {url} />
            }
            // Admin-only tools go below this line (`if props.is_admin { ... }`).
            if props.is_admin { <crate::help_center_dialog::HelpCenterTool settings={props.settings.clone()} {i18n} /> }
        </>
    }
}
