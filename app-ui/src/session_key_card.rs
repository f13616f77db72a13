//! The session key card (API mode): the key in large type, its URL, a live expiry countdown,
//! Copy and Insert into reply. Every failure names its cause and offers the representative
//! console's dialog (the pre-API behaviour) as the fallback.

use app_core::session_key_api::{countdown, KeyFailure, SessionKey};
use yew::prelude::*;

use crate::i18n::I18n;
use crate::key_panel::{Done, KeyPanel, KeyStatus};

/// What the card renders from (a plain view function: no hooks, so no component of its own,
/// which keeps the wasm smaller).
pub struct SessionKeyCardProps {
    pub i18n: I18n,
    pub panel: KeyPanel,
    pub on_generate: Callback<()>,
    /// Copy the invitation text.
    pub on_copy: Callback<String>,
    /// Insert the invitation text into the reply.
    pub on_insert: Callback<String>,
    /// The fallback: the console's Generate Session Key dialog.
    pub on_console: Callback<()>,
    /// The notice of the last console launch (a top-level open), shown under the fallback button.
    pub console_notice: Html,
}

/// The short, translated invitation an agent sends the customer.
pub fn invitation(i18n: I18n, key: &SessionKey, now: i64) -> String {
    i18n.format(
        "ui.session_key.invitation",
        &[
            ("url", key.key_url.clone()),
            ("site", key.site().to_string()),
            ("key", key.short_key.clone()),
            ("minutes", key.seconds_left(now).div_ceil(60).to_string()),
        ],
    )
}

/// The agent-facing message of a failure.
pub fn failure_text(i18n: I18n, failure: &KeyFailure) -> String {
    match failure {
        KeyFailure::Appliance(message) => {
            i18n.format(failure.key(), &[("message", message.clone())])
        }
        other => i18n.t(other.key()).to_string(),
    }
}

pub fn session_key_card(props: &SessionKeyCardProps) -> Html {
    let i18n = props.i18n;
    let panel = &props.panel;
    let generate = props.on_generate.reform(|_: MouseEvent| ());
    let generating = panel.status == KeyStatus::Generating;
    let button = |label: &'static str| {
        html! {
            <button type="button" class="rs-btn rs-btn-primary" id="rs-generate-session-key"
                disabled={generating} aria-busy={generating.to_string()} onclick={generate.clone()}>
                { i18n.t(label) }
            </button>
        }
    };
    let body = match &panel.status {
        KeyStatus::Idle => html! {
            <>
                { button("ui.session_key.button") }
                <p class="rs-hint" id="rs-session-key-help">{ i18n.t("ui.session_key.api_help") }</p>
            </>
        },
        KeyStatus::Generating => html! {
            <>
                { button("ui.session_key.generating") }
                <p class="rs-hint" role="status">{ i18n.t("ui.session_key.generating") }</p>
            </>
        },
        KeyStatus::Shown(key) => {
            let text = invitation(i18n, key, panel.now);
            let (copy, insert) = (props.on_copy.clone(), props.on_insert.clone());
            let copy_text = text.clone();
            let done = panel.done.map(|d| match d {
                Done::Copied => ("ui.session_key.copied", false),
                Done::Inserted => ("ui.session_key.inserted", false),
                Done::CopyFailed => ("ui.session_key.copy_failed", true),
                Done::InsertFailed => ("ui.session_key.insert_failed", true),
            });
            html! {
                <>
                    <p class="rs-key" id="rs-key">{ &key.short_key }</p>
                    <p class="rs-key-url">
                        <a id="rs-key-url" href={key.key_url.clone()} target="_blank" rel="noopener noreferrer">{ &key.key_url }</a>
                    </p>
                    <p class="rs-hint" id="rs-key-expiry" role="timer" aria-live="off">
                        { i18n.format("ui.session_key.expires_in", &[("time", countdown(key.seconds_left(panel.now)))]) }
                    </p>
                    <div class="rs-actions">
                        <button type="button" class="rs-btn" id="rs-copy-key"
                            onclick={Callback::from(move |_: MouseEvent| copy.emit(copy_text.clone()))}>
                            { i18n.t("ui.session_key.copy") }
                        </button>
                        <button type="button" class="rs-btn" id="rs-insert-key"
                            onclick={Callback::from(move |_: MouseEvent| insert.emit(text.clone()))}>
                            { i18n.t("ui.session_key.insert") }
                        </button>
                    </div>
                    if let Some((label, bad)) = done {
                        <p class={if bad { "rs-error" } else { "rs-hint" }} id="rs-key-done" role="status">{ i18n.t(label) }</p>
                    }
                    <button type="button" class="rs-btn rs-btn-link" id="rs-generate-session-key" onclick={generate.clone()}>
                        { i18n.t("ui.session_key.again") }
                    </button>
                </>
            }
        }
        KeyStatus::Failed(failure) => {
            let console = props.on_console.reform(|_: MouseEvent| ());
            html! {
                <>
                    <div class="rs-alert" id="rs-key-error" role="alert" data-failure={failure_name(failure)}>
                        { failure_text(i18n, failure) }
                    </div>
                    <button type="button" class="rs-btn rs-btn-primary" id="rs-key-console" onclick={console}>
                        { i18n.t("ui.session_key.console_fallback") }
                    </button>
                    { props.console_notice.clone() }
                    <button type="button" class="rs-btn rs-btn-link" id="rs-generate-session-key" onclick={generate}>
                        { i18n.t("ui.session_key.again") }
                    </button>
                </>
            }
        }
    };
    html! {
        <section class="rs-section rs-key-card" aria-labelledby="rs-session-key-title">
            <h2 class="rs-h" id="rs-session-key-title">{ i18n.t("ui.session_key.title") }</h2>
            { body }
        </section>
    }
}

/// A stable name per failure kind (`data-failure`, for tests).
pub fn failure_name(failure: &KeyFailure) -> &'static str {
    match failure {
        KeyFailure::Appliance(_) => "appliance",
        KeyFailure::Unreachable => "unreachable",
        KeyFailure::BadCredentials => "credentials",
        KeyFailure::NotPermitted => "not-permitted",
        KeyFailure::Expired => "expired",
        KeyFailure::Unexpected(_) => "unexpected",
    }
}
