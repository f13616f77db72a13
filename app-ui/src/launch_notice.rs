//! What the agent sees after pressing a launch button, right under that button.
//!
//! The sidebar cannot know whether the representative console really opened the client script
//! (it runs outside the browser), so the notice says what is happening and what to do next:
//! - **opened**: "Opening your representative console…" and a link that opens the same launch
//!   again; after [`GUIDANCE_AFTER_MS`] it turns into "Didn't open?" with the usual causes;
//! - **blocked**: the browser refused the new tab (a pop-up blocker, or an app frame without
//!   pop-ups): how to allow it, and the link to copy into a tab by hand.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::i18n::I18n;

/// The app's launch page (`assets/launch.html`, next to the sidebar's `iframe.html`) that opens
/// `url` from a top-level tab; see `zendesk-app`'s launcher for why the detour.
pub fn launch_page(url: &str) -> String {
    format!("launch.html#{}", app_core::urls::encode(url))
}

/// How long "Opening…" stays before the notice turns into "Didn't open?" guidance.
pub const GUIDANCE_AFTER_MS: i32 = 10_000;

/// What the host reports after trying to open a client-script URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchOutcome {
    /// A new tab or window was opened with the URL.
    Opened,
    /// The browser refused to open one (pop-up blocker, sandboxed frame without pop-ups).
    Blocked,
}

/// Which button started a launch (its notice appears under that button).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchSource {
    SessionKey,
    Jump,
}

/// One launch: the notice shows it until the next launch or an edit of the Jump form.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub source: LaunchSource,
    pub url: AttrValue,
    pub outcome: LaunchOutcome,
    /// The fallback link's text, naming what this launch does.
    pub label: AttrValue,
    /// Increases with every launch: a new launch restarts the guidance timer.
    pub seq: u32,
}

#[derive(Properties, PartialEq)]
pub struct LaunchNoticeProps {
    pub i18n: I18n,
    pub launch: Launch,
}

#[function_component]
pub fn LaunchNotice(props: &LaunchNoticeProps) -> Html {
    let i18n = props.i18n;
    let launch = &props.launch;
    let stale = use_state(|| false);
    {
        let stale = stale.clone();
        use_effect_with(launch.seq, move |_| {
            stale.set(false);
            let timer = Closure::<dyn FnMut()>::new(move || stale.set(true));
            let window = web_sys::window();
            let id = window.as_ref().and_then(|w| {
                w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    timer.as_ref().unchecked_ref(),
                    GUIDANCE_AFTER_MS,
                )
                .ok()
            });
            move || {
                if let (Some(w), Some(id)) = (window, id) {
                    w.clear_timeout_with_handle(id);
                }
                drop(timer);
            }
        });
    }
    // A new browsing context: the response is a download for the console, and if it is not
    // (a login page, an error) the sidebar must stay where it is. Through the launch page, like
    // the automatic attempt.
    let link = html! {
        <a class="rs-link" id="rs-fallback-link" href={launch_page(&launch.url)} target="_blank" rel="noopener noreferrer">
            { launch.label.clone() }
        </a>
    };
    let body = match (launch.outcome, *stale) {
        (LaunchOutcome::Blocked, _) => html! {
            <>
                <p class="rs-text">{ i18n.t("ui.launch.blocked") }</p>
                <p class="rs-text">{ link }</p>
                <label class="rs-label" for="rs-launch-url">{ i18n.t("ui.launch.copy_label") }</label>
                <input class="rs-input" id="rs-launch-url" type="text" readonly=true value={launch.url.clone()} />
            </>
        },
        (LaunchOutcome::Opened, false) => html! {
            <>
                <p class="rs-text">{ i18n.t("ui.launch.sent") }</p>
                <p class="rs-text">{ link }</p>
            </>
        },
        (LaunchOutcome::Opened, true) => html! {
            <>
                <p class="rs-text rs-strong">{ i18n.t("ui.launch.didnt_open") }</p>
                <ul class="rs-problems">
                    <li>{ i18n.t("ui.launch.check_console") }</li>
                    <li>{ i18n.t("ui.launch.check_certificate") }</li>
                    <li>{ i18n.t("ui.launch.check_popups") }</li>
                </ul>
                <p class="rs-text">{ link }</p>
            </>
        },
    };
    let state = match (launch.outcome, *stale) {
        (LaunchOutcome::Blocked, _) => "blocked",
        (LaunchOutcome::Opened, false) => "opening",
        (LaunchOutcome::Opened, true) => "guidance",
    };
    let class = if launch.outcome == LaunchOutcome::Blocked {
        "rs-notice rs-notice-warning"
    } else {
        "rs-notice"
    };
    html! {
        <div {class} id="rs-launch-notice" role="status" data-state={state}>{ body }</div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launch_page_carries_the_whole_url_in_its_fragment() {
        let url = "https://bt.example.com:8443/api/client_script?type=rep&action=x&search_string=a%20%23b";
        let page = launch_page(url);
        assert_eq!(
            page,
            "launch.html#https%3A%2F%2Fbt.example.com%3A8443%2Fapi%2Fclient_script%3Ftype%3Drep%26action%3Dx%26search_string%3Da%2520%2523b"
        );
        // Nothing in the fragment can end it or start a second one.
        assert!(!page["launch.html#".len()..].contains(['#', '&', '?', '/']));
    }
}
