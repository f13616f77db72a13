//! The root component: owns the sidebar reducer and feeds it from the ZAF client.

use app_ui::{Sidebar, SidebarAction, SidebarView};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::load::load;
use crate::zaf::{ZafClient, HELP_CENTER_MODAL_URL};

/// The Customize Help Center modal's size (px): room for the steps and the snippet, which the
/// 320 px sidebar does not have.
pub const MODAL_SIZE: (u32, u32) = (640, 620);

#[derive(Properties)]
pub struct RootProps<C: ZafClient + 'static> {
    pub client: Rc<C>,
    /// Opens a client-script URL (`launcher::launch` in the app; a recorder in tests).
    pub launch: Callback<String, app_ui::LaunchOutcome>,
    /// Zendesk API access (session key card, sessions list); `None` in tests without it.
    pub api: Option<app_ui::SidebarApi>,
}

impl<C: ZafClient + 'static> PartialEq for RootProps<C> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.client, &other.client)
            && self.launch == other.launch
            && self.api == other.api
    }
}

#[function_component]
pub fn Root<C: ZafClient + 'static>(props: &RootProps<C>) -> Html {
    let state = use_reducer(Sidebar::default);
    {
        let (client, dispatcher) = (props.client.clone(), state.dispatcher());
        use_effect_with((), move |_| {
            spawn_local(async move {
                match load(&*client).await {
                    Ok(action) => {
                        let waits_for_save = matches!(&action, SidebarAction::Loaded(l) if l.ticket_id.is_none() && l.settings.is_ok());
                        dispatcher.dispatch(action);
                        if waits_for_save {
                            listen_for_save(client, dispatcher);
                        }
                    }
                    Err(e) => {
                        web_sys::console::error_1(&format!("Remote Support: {}", e.0).into());
                        dispatcher.dispatch(SidebarAction::LoadFailed);
                    }
                }
            });
        });
    }
    let customize = {
        let client = props.client.clone();
        Callback::from(move |()| {
            client.open_modal(HELP_CENTER_MODAL_URL, MODAL_SIZE.0, MODAL_SIZE.1)
        })
    };
    html! {
        <SidebarView state={(*state).clone()} on_launch={props.launch.clone()}
            on_customize_help_center={Some(customize)} api={props.api.clone()} />
    }
}

/// `ticket.saved` in the new-ticket sidebar: the ticket now has an id.
fn listen_for_save<C: ZafClient + 'static>(
    client: Rc<C>,
    dispatcher: UseReducerDispatcher<Sidebar>,
) {
    let for_handler = client.clone();
    client.on(
        "ticket.saved",
        Box::new(move || {
            let (client, dispatcher) = (for_handler.clone(), dispatcher.clone());
            spawn_local(async move {
                match client.ticket_id().await {
                    Ok(Some(ticket_id)) => {
                        dispatcher.dispatch(SidebarAction::TicketSaved { ticket_id })
                    }
                    Ok(None) => {}
                    Err(e) => web_sys::console::error_1(&format!("Remote Support: {}", e.0).into()),
                }
            });
        }),
    );
}
