//! After a launch: a short confirmation, and a link to open the same URL by hand in case the
//! browser blocked the automatic attempt.

use yew::prelude::*;

use crate::i18n::I18n;

#[derive(Properties, PartialEq)]
pub struct LaunchNoticeProps {
    pub i18n: I18n,
    pub url: AttrValue,
}

#[function_component]
pub fn LaunchNotice(props: &LaunchNoticeProps) -> Html {
    let i18n = props.i18n;
    html! {
        <div class="rs-notice" role="status">
            <p class="rs-text">{ i18n.t("ui.launch.sent") }</p>
            // A new browsing context: the response is a download for the console, and if it is
            // not (a login page, an error) the sidebar must stay where it is.
            <a class="rs-link" id="rs-fallback-link" href={props.url.clone()} target="_blank" rel="noopener noreferrer">
                { i18n.t("ui.launch.fallback") }
            </a>
        </div>
    }
}
