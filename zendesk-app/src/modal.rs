//! The Customize Help Center modal (`assets/modal.html`, opened by the sidebar with
//! `instances.create`): the admin's steps and snippet get a real dialog's room instead of the
//! 320 px sidebar. Zendesk draws the modal over the agent's page; this is its content.

use app_ui::help_center_dialog::HelpCenterDialog;
use app_ui::invalid_view::InvalidView;
use app_ui::message_view::MessageView;
use app_ui::I18n;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::zaf::{SettingsResult, ZafClient};

#[derive(Properties)]
pub struct ModalRootProps<C: ZafClient + 'static> {
    pub client: Rc<C>,
}

impl<C: ZafClient + 'static> PartialEq for ModalRootProps<C> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.client, &other.client)
    }
}

/// What the modal learned from Zendesk.
#[derive(Clone, PartialEq)]
enum Loaded {
    Loading,
    Ready(Rc<SettingsResult>, I18n),
    Failed,
}

#[function_component]
pub fn ModalRoot<C: ZafClient + 'static>(props: &ModalRootProps<C>) -> Html {
    let loaded = use_state(|| Loaded::Loading);
    {
        let (client, loaded) = (props.client.clone(), loaded.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                let (settings, user) = (client.settings(), client.current_user());
                match (settings.await, user.await) {
                    (Ok(settings), Ok(user)) => loaded.set(Loaded::Ready(
                        Rc::new(settings),
                        I18n::for_locale(&user.locale),
                    )),
                    (Err(e), _) | (_, Err(e)) => {
                        web_sys::console::error_1(&format!("Remote Support: {}", e.0).into());
                        loaded.set(Loaded::Failed);
                    }
                }
            });
        });
    }
    let english = I18n::for_locale("");
    let body = match &*loaded {
        Loaded::Loading => html! { <MessageView text={english.t("ui.loading")} /> },
        Loaded::Failed => html! { <MessageView text={english.t("ui.load_failed")} /> },
        Loaded::Ready(settings, i18n) => match settings.as_ref() {
            Err(problems) => html! { <InvalidView problems={problems.clone()} i18n={*i18n} /> },
            Ok(settings) => {
                let issues = settings
                    .issues
                    .iter()
                    .map(|issue| (issue.code.clone(), issue.name.clone()))
                    .collect::<Vec<_>>();
                let client = props.client.clone();
                html! {
                    <HelpCenterDialog hostname={AttrValue::from(settings.hostname.clone())}
                        issues={Rc::new(issues)} i18n={*i18n}
                        on_close={Callback::from(move |()| client.destroy())} />
                }
            }
        },
    };
    let phase = match &*loaded {
        Loaded::Loading => "loading",
        Loaded::Failed => "failed",
        Loaded::Ready(..) => "modal",
    };
    html! { <main class="rs-app rs-modal" data-phase={phase}>{ body }</main> }
}
