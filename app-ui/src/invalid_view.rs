//! The settings have problems: list every one, in the agent's language.

use app_core::settings::SettingsError;
use yew::prelude::*;

use crate::i18n::I18n;

#[derive(Properties, PartialEq)]
pub struct InvalidViewProps {
    pub problems: Vec<SettingsError>,
    pub i18n: I18n,
}

#[function_component]
pub fn InvalidView(props: &InvalidViewProps) -> Html {
    let i18n = props.i18n;
    html! {
        <section class="rs-invalid" role="alert" aria-labelledby="rs-invalid-title">
            <h2 class="rs-h" id="rs-invalid-title">{ i18n.t("ui.invalid.title") }</h2>
            <p class="rs-text">{ i18n.t("ui.invalid.intro") }</p>
            <ul class="rs-problems">
                { for props.problems.iter().map(|p| html! {
                    <li data-key={p.key()}>{ i18n.settings_error(p) }</li>
                }) }
            </ul>
        </section>
    }
}
