//! The session key section and the ticket's sessions list, when the host offers Zendesk API
//! access ([`SidebarApi`]). Owns their reducers; the host does the I/O.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::i18n::I18n;
use crate::key_panel::{Done, KeyAction, KeyPanel, KeyStatus, SessionsState, SidebarApi};
use crate::session_key_button::SessionKeyButton;
use crate::session_key_card::{session_key_card, SessionKeyCardProps};
use crate::ticket_sessions::{ticket_sessions, TicketSessionsProps};

#[derive(Properties, PartialEq)]
pub struct ApiSectionsProps {
    pub i18n: I18n,
    pub api: SidebarApi,
    pub ticket_id: u64,
    /// The console dialog launch (the button without API mode, the fallback with it).
    pub on_console: Callback<()>,
    /// The notice of the last console launch, shown under the button that started it.
    #[prop_or_default]
    pub console_notice: Html,
}

#[function_component]
pub fn ApiSections(props: &ApiSectionsProps) -> Html {
    let i18n = props.i18n;
    let api = props.api.clone();
    let panel = use_reducer(KeyPanel::default);
    let ticket_id = props.ticket_id;
    let reload = {
        let (dispatcher, load) = (panel.dispatcher(), api.load_comments.clone());
        Callback::from(move |()| {
            dispatcher.dispatch(KeyAction::Sessions(SessionsState::Loading));
            let dispatcher = dispatcher.clone();
            load.emit((
                ticket_id,
                Callback::from(move |result| {
                    dispatcher.dispatch(KeyAction::Sessions(SessionsState::from_result(result)))
                }),
            ));
        })
    };
    {
        let reload = reload.clone();
        use_effect_with((), move |_| reload.emit(()));
    }
    // The countdown: one tick a second while a key is shown.
    {
        let shown = matches!(panel.status, KeyStatus::Shown(_));
        let (dispatcher, now) = (panel.dispatcher(), api.now.clone());
        use_effect_with(shown, move |shown| {
            let mut handle = None;
            let tick = Closure::<dyn Fn()>::new(move || {
                dispatcher.dispatch(KeyAction::Tick(now.emit(())))
            });
            if *shown {
                if let Some(window) = web_sys::window() {
                    handle = window
                        .set_interval_with_callback_and_timeout_and_arguments_0(
                            tick.as_ref().unchecked_ref(),
                            1000,
                        )
                        .ok();
                }
            }
            move || {
                if let (Some(h), Some(window)) = (handle, web_sys::window()) {
                    window.clear_interval_with_handle(h);
                }
                drop(tick);
            }
        });
    }
    let generate = {
        let (dispatcher, generate, now) =
            (panel.dispatcher(), api.generate.clone(), api.now.clone());
        let busy = panel.status == KeyStatus::Generating;
        Callback::from(move |()| {
            if busy {
                return;
            }
            dispatcher.dispatch(KeyAction::Generate);
            let (dispatcher, now) = (dispatcher.clone(), now.clone());
            generate.emit((
                ticket_id,
                Callback::from(move |result| {
                    dispatcher.dispatch(match result {
                        Ok(key) => KeyAction::Generated {
                            key,
                            now: now.emit(()),
                        },
                        Err(failure) => KeyAction::Failed(failure),
                    })
                }),
            ));
        })
    };
    let report = |ok: Done, failed: Done, action: Callback<(String, Callback<bool>)>| {
        let dispatcher = panel.dispatcher();
        Callback::from(move |text: String| {
            let dispatcher = dispatcher.clone();
            action.emit((
                text,
                Callback::from(move |success: bool| {
                    dispatcher.dispatch(KeyAction::Done(if success { ok } else { failed }))
                }),
            ))
        })
    };
    let on_copy = report(Done::Copied, Done::CopyFailed, api.copy.clone());
    let on_insert = report(Done::Inserted, Done::InsertFailed, api.insert.clone());
    let waiting: Vec<_> = panel.waiting().into_iter().cloned().collect();
    let panel_state: KeyPanel = (*panel).clone();
    let card = if api.api_keys.emit(()) {
        session_key_card(&SessionKeyCardProps {
            i18n,
            panel: panel_state,
            on_generate: generate,
            on_copy,
            on_insert,
            on_console: props.on_console.clone(),
            console_notice: props.console_notice.clone(),
        })
    } else {
        html! {
            <SessionKeyButton {i18n} onclick={props.on_console.clone()}>
                { props.console_notice.clone() }
            </SessionKeyButton>
        }
    };
    let list = ticket_sessions(&TicketSessionsProps {
        i18n,
        state: panel.sessions.clone(),
        waiting,
        comment_href: api.comment_href.reform(move |comment| (ticket_id, comment)),
        on_reload: reload,
    });
    html! { <>{ card }{ list }</> }
}
