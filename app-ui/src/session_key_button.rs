//! "Generate Session Key": opens the representative console's dialog for this ticket.

use yew::prelude::*;

use crate::i18n::I18n;

#[derive(Properties, PartialEq)]
pub struct SessionKeyButtonProps {
    pub i18n: I18n,
    /// Called on click; the parent builds the URL and launches it.
    pub onclick: Callback<()>,
    /// The notice of a launch from this button, shown right under it.
    #[prop_or_default]
    pub children: Html,
}

#[function_component]
pub fn SessionKeyButton(props: &SessionKeyButtonProps) -> Html {
    let i18n = props.i18n;
    let onclick = props.onclick.reform(|_: MouseEvent| ());
    html! {
        <section class="rs-section" aria-labelledby="rs-session-key-title">
            <h2 class="rs-h" id="rs-session-key-title">{ i18n.t("ui.session_key.title") }</h2>
            <button type="button" class="rs-btn rs-btn-primary" id="rs-generate-session-key"
                aria-describedby="rs-session-key-help" {onclick}>
                { i18n.t("ui.session_key.button") }
            </button>
            { props.children.clone() }
            <p class="rs-hint" id="rs-session-key-help">{ i18n.t("ui.session_key.help") }</p>
        </section>
    }
}
