//! "Customize Help Center": the admin's dialog with the steps for the Help Center theme and the
//! Get Support Now snippet generated from the current settings, with a Copy button.
//!
//! Texts come from `translations/*.json` under `help_center`; a key a catalog lacks falls back to
//! the English text here, so the dialog never shows an empty label.

use std::rc::Rc;

use app_core::help_center::{snippet, SnippetError, SnippetTexts};
use app_core::settings::Settings;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::js_sys::{Function, Reflect};
use yew::prelude::*;

use crate::i18n::I18n;

/// The English text of each `help_center.*` key the dialog uses (also the fallback).
pub const ENGLISH: &[(&str, &str)] = &[
    ("open_button", "Customize Help Center"),
    ("title", "Customize Help Center"),
    ("intro", "Add a Get Support Now button to your Help Center: end users pick an issue on their request and start a chat session tied to it."),
    ("snippet_label", "Snippet to paste into templates/request_page.hbs"),
    ("copy", "Copy snippet"),
    ("copied", "Copied to the clipboard."),
    ("copy_failed", "Could not copy: select the snippet and press Ctrl+C."),
    ("close", "Close"),
    ("issue_label", "What do you need help with?"),
    ("button", "Get Support Now"),
    ("starting", "Starting your chat…"),
    ("error_missing_hostname", "Set the BeyondTrust appliance hostname in the app settings to generate the Help Center snippet."),
    ("error_invalid_hostname", "The hostname in the app settings is not a bare appliance host name (like support.example.com, optionally with :port): fix it in the app settings."),
    ("error_no_issues", "Add at least one issue (one code=Name per line) in the app settings: the Get Support Now button needs an issue to start a session."),
    ("error_empty_issue_code", "Issue {{position}} in the app settings has no code name; write it as code=Name."),
];

/// The number of steps (`help_center.step_1` ..).
const STEPS: usize = 6;

/// The text of `help_center.KEY`, or its English fallback.
pub fn text(i18n: &I18n, key: &str) -> String {
    let translated = i18n.t(&format!("help_center.{key}"));
    if !translated.is_empty() {
        return translated.to_string();
    }
    ENGLISH
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// The snippet's words and steps in the admin's language.
pub fn snippet_texts(i18n: &I18n) -> SnippetTexts {
    let english = SnippetTexts::default();
    let steps = (1..=STEPS)
        .map(|n| {
            let translated = i18n.t(&format!("help_center.step_{n}"));
            match translated {
                "" => english.instructions.get(n - 1).cloned().unwrap_or_default(),
                text => text.to_string(),
            }
        })
        .filter(|step| !step.is_empty())
        .collect();
    SnippetTexts {
        issue_label: text(i18n, "issue_label"),
        button: text(i18n, "button"),
        starting: text(i18n, "starting"),
        instructions: steps,
    }
}

/// What to tell the admin when no snippet can be generated.
pub fn error_text(i18n: &I18n, error: &SnippetError) -> String {
    let message = text(i18n, error.key());
    match error {
        SnippetError::EmptyIssueCode { position } => {
            message.replace("{{position}}", &position.to_string())
        }
        _ => message,
    }
}

#[derive(Properties, PartialEq)]
pub struct HelpCenterDialogProps {
    /// The appliance host from the settings.
    pub hostname: AttrValue,
    /// The issues from the settings as `(code, name)`, in order.
    pub issues: Rc<Vec<(String, String)>>,
    pub i18n: I18n,
    /// Close (Esc, the Close button). The opener should take focus back.
    pub on_close: Callback<()>,
}

#[derive(Clone, Copy, PartialEq)]
enum CopyState {
    Idle,
    Copied,
    Failed,
}

#[function_component]
pub fn HelpCenterDialog(props: &HelpCenterDialogProps) -> Html {
    let i18n = props.i18n;
    let generated = use_memo(
        (props.hostname.clone(), props.issues.clone(), i18n),
        |(host, issues, i18n)| snippet(host, issues, &snippet_texts(i18n)),
    );
    let copy_state = use_state(|| CopyState::Idle);
    let dialog_ref = use_node_ref();
    let textarea_ref = use_node_ref();

    // Focus moves into the dialog when it opens, and back where it was when it closes.
    {
        let dialog_ref = dialog_ref.clone();
        use_effect_with((), move |_| {
            let previous = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(dialog) = dialog_ref.cast::<web_sys::HtmlElement>() {
                let _ = dialog.focus();
            }
            move || {
                if let Some(previous) = previous {
                    let _ = previous.focus();
                }
            }
        });
    }

    let onkeydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                event.prevent_default();
                event.stop_propagation();
                on_close.emit(());
            } else if event.key() == "Tab" {
                keep_focus_inside(&event);
            }
        })
    };
    let close = props.on_close.reform(|_: MouseEvent| ());

    let body = match &*generated {
        Ok(generated) => {
            let copy = {
                let (copy_state, textarea_ref, markup) = (
                    copy_state.clone(),
                    textarea_ref.clone(),
                    generated.markup.clone(),
                );
                Callback::from(move |_: MouseEvent| {
                    let copy_state = copy_state.clone();
                    let done = Callback::from(move |ok: bool| {
                        copy_state.set(if ok {
                            CopyState::Copied
                        } else {
                            CopyState::Failed
                        })
                    });
                    copy_to_clipboard(&markup, textarea_ref.get(), done);
                })
            };
            let status = match *copy_state {
                CopyState::Idle => String::new(),
                CopyState::Copied => text(&i18n, "copied"),
                CopyState::Failed => text(&i18n, "copy_failed"),
            };
            html! {
                <>
                    <ol class="rs-hc-steps">
                        { for generated.instructions.iter().map(|step| html! { <li>{ step.clone() }</li> }) }
                    </ol>
                    <label class="rs-label" for="rs-hc-snippet">{ text(&i18n, "snippet_label") }</label>
                    <textarea id="rs-hc-snippet" class="rs-hc-snippet" ref={textarea_ref} readonly=true
                        rows="10" spellcheck="false"
                        value={generated.markup.clone()} />
                    <div class="rs-hc-actions">
                        <button type="button" class="rs-btn rs-btn-primary" id="rs-hc-copy" onclick={copy}>
                            { text(&i18n, "copy") }
                        </button>
                        <span class="rs-hint" id="rs-hc-copy-status" role="status" aria-live="polite">{ status }</span>
                    </div>
                </>
            }
        }
        Err(error) => html! {
            <p class="rs-error" id="rs-hc-error" role="alert">{ error_text(&i18n, error) }</p>
        },
    };

    html! {
        <div class="rs-hc-dialog" id="rs-hc-dialog" role="dialog" aria-modal="true"
            aria-labelledby="rs-hc-title" aria-describedby="rs-hc-intro" tabindex="-1"
            ref={dialog_ref} {onkeydown}>
            <h2 class="rs-h" id="rs-hc-title">{ text(&i18n, "title") }</h2>
            <p class="rs-hint" id="rs-hc-intro">{ text(&i18n, "intro") }</p>
            { body }
            <button type="button" class="rs-btn" id="rs-hc-close" onclick={close}>{ text(&i18n, "close") }</button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct HelpCenterToolProps {
    pub settings: Rc<Settings>,
    pub i18n: I18n,
    /// The host opens the dialog itself (a Zendesk modal); `None`: the dialog opens in the frame.
    #[prop_or_default]
    pub on_open: Option<Callback<()>>,
}

/// The admin's "Customize Help Center" button and, once clicked, the dialog (in the sidebar's
/// frame, below the button). The host renders it only for admins.
#[function_component]
pub fn HelpCenterTool(props: &HelpCenterToolProps) -> Html {
    let open = use_state(|| false);
    let i18n = props.i18n;
    let issues = use_memo(props.settings.clone(), |settings| {
        settings
            .issues
            .iter()
            .map(|issue| (issue.code.clone(), issue.name.clone()))
            .collect::<Vec<_>>()
    });
    let toggle = {
        let (open, on_open) = (open.clone(), props.on_open.clone());
        Callback::from(move |_: MouseEvent| match &on_open {
            Some(on_open) => on_open.emit(()),
            None => open.set(!*open),
        })
    };
    let on_close = {
        let open = open.clone();
        Callback::from(move |()| open.set(false))
    };
    html! {
        <section class="rs-section" aria-labelledby="rs-customize-help-center">
            <button type="button" class="rs-btn" id="rs-customize-help-center"
                aria-haspopup="dialog" aria-expanded={(*open).to_string()} onclick={toggle}>
                { text(&i18n, "open_button") }
            </button>
            if *open {
                <HelpCenterDialog hostname={AttrValue::from(props.settings.hostname.clone())}
                    issues={Rc::new((*issues).clone())} {i18n} {on_close} />
            }
        </section>
    }
}

/// Tab and Shift+Tab cycle through the dialog's controls instead of leaving it (`aria-modal`):
/// the first is the snippet (or Close when there is no snippet), the last is Close.
fn keep_focus_inside(event: &KeyboardEvent) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let by_id = |id: &str| {
        document
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    };
    let (Some(first), Some(last)) = (
        by_id("rs-hc-snippet").or_else(|| by_id("rs-hc-close")),
        by_id("rs-hc-close"),
    ) else {
        return;
    };
    let active = document
        .active_element()
        .map(|e| e.id())
        .unwrap_or_default();
    let target = match (event.shift_key(), active.as_str()) {
        (false, id) if id == last.id() => Some(first),
        (true, id) if id == first.id() || id == "rs-hc-dialog" => Some(last),
        _ => None,
    };
    if let Some(target) = target {
        event.prevent_default();
        let _ = target.focus();
    }
}

/// Copies `text`: `navigator.clipboard.writeText` where the browser allows it, otherwise (or if
/// it is refused) selecting the textarea and `document.execCommand('copy')`. `done` gets whether
/// the text reached the clipboard. Goes through `Reflect` because either API may be missing.
fn copy_to_clipboard(text: &str, textarea: Option<web_sys::Node>, done: Callback<bool>) {
    let fallback = {
        let done = done.clone();
        move || {
            let ok = textarea.is_some_and(|node| {
                call_method(&node, "focus", &[]);
                call_method(&node, "select", &[]);
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| call_method(&d, "execCommand", &[JsValue::from_str("copy")]))
                    .is_some_and(|result| result.as_bool() == Some(true))
            });
            done.emit(ok)
        }
    };
    let promise = web_sys::window()
        .and_then(|w| Reflect::get(&w.navigator(), &"clipboard".into()).ok())
        .filter(|clipboard| clipboard.is_object())
        .and_then(|clipboard| call_method(&clipboard, "writeText", &[JsValue::from_str(text)]))
        .filter(|promise| promise.is_object());
    let then = promise
        .as_ref()
        .and_then(|p| Reflect::get(p, &"then".into()).ok())
        .and_then(|f| f.dyn_into::<Function>().ok());
    let (Some(promise), Some(then)) = (promise, then) else {
        return fallback();
    };
    let on_ok = Closure::once_into_js(move |_: JsValue| done.emit(true));
    let on_err = Closure::once_into_js(move |_: JsValue| fallback());
    let _ = then.call2(&promise, &on_ok, &on_err);
}

/// Calls `target[name](...args)` if it is a function; `None` if it is missing or throws.
fn call_method(target: &JsValue, name: &str, args: &[JsValue]) -> Option<JsValue> {
    let method = Reflect::get(target, &name.into())
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    let args: web_sys::js_sys::Array = args.iter().collect();
    method.apply(target, &args).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_has_an_english_fallback() {
        let i18n = I18n::for_locale("en");
        for (key, english) in ENGLISH {
            assert!(!text(&i18n, key).is_empty(), "{key}");
            assert!(!english.is_empty(), "{key}");
        }
        for error in [
            SnippetError::MissingHostname,
            SnippetError::InvalidHostname,
            SnippetError::NoIssues,
            SnippetError::EmptyIssueCode { position: 3 },
        ] {
            let message = error_text(&i18n, &error);
            assert!(
                !message.is_empty() && !message.contains("{{"),
                "{error:?}: {message}"
            );
        }
        assert!(
            error_text(&i18n, &SnippetError::EmptyIssueCode { position: 3 }).contains("Issue 3 ")
        );
    }

    #[test]
    fn snippet_texts_carry_the_steps_and_the_button() {
        let texts = snippet_texts(&I18n::for_locale("en"));
        assert_eq!(texts.instructions.len(), STEPS);
        assert!(texts
            .instructions
            .iter()
            .any(|s| s.contains("request_page.hbs")));
        assert_eq!(texts.button, "Get Support Now");
    }
}

#[cfg(test)]
mod catalog_tests {
    use super::*;

    #[test]
    fn english_catalog_matches_the_fallbacks_and_app_core_steps() {
        let en = I18n::for_locale("en");
        for (key, english) in ENGLISH {
            assert_eq!(en.t(&format!("help_center.{key}")), *english, "{key}");
        }
        assert_eq!(
            snippet_texts(&en).instructions,
            SnippetTexts::default().instructions
        );
    }

    #[test]
    fn german_catalog_has_every_key() {
        let de = I18n::for_locale("de");
        assert_eq!(de.locale(), "de");
        for (key, _) in ENGLISH {
            let german = de.t(&format!("help_center.{key}"));
            assert!(!german.is_empty(), "{key}");
        }
        assert_eq!(snippet_texts(&de).button, "Jetzt Support erhalten");
    }
}
