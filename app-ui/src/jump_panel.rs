//! The Jump panel: type picker (enabled types only), Jumpoint picker when the type goes through
//! one, the target, and the RDP / Shell Jump extras. Validates inline before launching.

use app_core::jump::{Field, JumpProblem, ShellProtocol};
use app_core::jump_type::JumpType;
use app_core::settings::Settings;
use app_core::urls;
use std::rc::Rc;
use yew::prelude::*;

use crate::fields::{SelectField, TextField};
use crate::i18n::I18n;
use crate::jump_form::{JumpForm, JumpFormAction};

#[derive(Properties, PartialEq)]
pub struct JumpPanelProps {
    pub settings: Rc<Settings>,
    pub ticket_id: u64,
    pub i18n: I18n,
    /// Receives the client-script URL of a valid Jump and the fallback link's text.
    pub on_launch: Callback<(String, String)>,
    /// Any edit, type switch or failed launch attempt (a previous launch's notice is stale).
    pub on_edit: Callback<()>,
    /// The notice of a Jump launch, shown right under the Jump button.
    #[prop_or_default]
    pub children: Html,
}

fn error_for(problems: &[JumpProblem], field: Field, i18n: I18n) -> Option<AttrValue> {
    problems
        .iter()
        .find(|p| p.field() == field)
        .map(|p| AttrValue::from(i18n.t(p.key())))
}

/// The id of the control a problem belongs to.
fn field_id(field: Field) -> &'static str {
    match field {
        Field::JumpType => "rs-jump-type",
        Field::Target => "rs-target",
        Field::Jumpoint => "rs-jumpoint",
        Field::Port => "rs-port",
    }
}

/// Moves the keyboard focus to the first field with a problem (where its message is read out).
fn focus_first(problems: &[JumpProblem]) {
    use wasm_bindgen::JsCast;
    let Some(first) = problems.first() else {
        return;
    };
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(field_id(first.field())));
    if let Some(element) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = element.focus();
    }
}

#[function_component]
pub fn JumpPanel(props: &JumpPanelProps) -> Html {
    let form = {
        let settings = props.settings.clone();
        use_reducer(move || JumpForm::new(settings))
    };
    let i18n = props.i18n;
    let input = &form.input;
    let problems = form.visible_problems();
    let dispatch = {
        let (form, on_edit) = (form.clone(), props.on_edit.clone());
        Callback::from(move |action: JumpFormAction| {
            form.dispatch(action);
            on_edit.emit(());
        })
    };
    let set = |make: fn(String) -> JumpFormAction| dispatch.reform(make);

    let onsubmit = {
        let form = form.clone();
        let (host, ticket_id, on_launch, on_edit) = (
            props.settings.hostname.clone(),
            props.ticket_id,
            props.on_launch.clone(),
            props.on_edit.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            form.dispatch(JumpFormAction::Attempted);
            // Synchronously, inside the agent's click: the host opens a new tab with it.
            match form.result() {
                Ok(request) => {
                    let kind = i18n.t(&format!("ui.jump.types.{}", form.input.jump_type.id()));
                    let label = i18n.format(
                        "ui.launch.link_jump",
                        &[
                            ("type", kind.to_string()),
                            ("target", form.input.target.trim().to_string()),
                        ],
                    );
                    on_launch.emit((urls::jump(&host, ticket_id, &request), label))
                }
                Err(problems) => {
                    on_edit.emit(());
                    focus_first(&problems)
                }
            }
        })
    };

    let types = props
        .settings
        .jump_types
        .iter()
        .map(|t| {
            (
                AttrValue::from(t.id()),
                AttrValue::from(i18n.t(&format!("ui.jump.types.{}", t.id()))),
            )
        })
        .collect::<Vec<_>>();
    let jumpoints = props
        .settings
        .jumpoints
        .iter()
        .map(|j| (AttrValue::from(j.clone()), AttrValue::from(j.clone())))
        .collect::<Vec<_>>();
    let protocols = vec![
        (
            AttrValue::from(ShellProtocol::Ssh.id()),
            AttrValue::from("SSH"),
        ),
        (
            AttrValue::from(ShellProtocol::Telnet.id()),
            AttrValue::from("Telnet"),
        ),
    ];
    let kind = input.jump_type;
    let target_label = if kind == JumpType::JumpClient {
        "ui.jump.search"
    } else {
        "ui.jump.target"
    };

    html! {
        <section class="rs-section" aria-labelledby="rs-jump-title">
            <h2 class="rs-h" id="rs-jump-title">{ i18n.t("ui.jump.title") }</h2>
            <form class="rs-form" novalidate=true {onsubmit}>
                <SelectField id={field_id(Field::JumpType)} label={i18n.t("ui.jump.type")} options={types}
                    value={kind.id()} error={error_for(&problems, Field::JumpType, i18n)}
                    on_change={
                        let dispatch = dispatch.clone();
                        Callback::from(move |v: String| if let Some(t) = JumpType::from_id(&v) {
                            dispatch.emit(JumpFormAction::SetType(t))
                        })
                    } />
                if kind.needs_jumpoint() {
                    <SelectField id={field_id(Field::Jumpoint)} label={i18n.t("ui.jump.jumpoint")} options={jumpoints}
                        value={input.jumpoint.clone()} placeholder={AttrValue::from(i18n.t("ui.jump.choose_jumpoint"))}
                        error={error_for(&problems, Field::Jumpoint, i18n)}
                        on_change={set(JumpFormAction::SetJumpoint)} />
                }
                <TextField id={field_id(Field::Target)} label={i18n.t(target_label)} value={input.target.clone()}
                    error={error_for(&problems, Field::Target, i18n)} on_change={set(JumpFormAction::SetTarget)} />
                if matches!(kind, JumpType::Rdp | JumpType::ShellJump) {
                    <TextField id="rs-username" label={i18n.t("ui.jump.username")} value={input.username.clone()}
                        on_change={set(JumpFormAction::SetUsername)} />
                }
                if kind == JumpType::ShellJump {
                    <div class="rs-row">
                        <SelectField id="rs-protocol" label={i18n.t("ui.jump.protocol")} options={protocols}
                            value={input.protocol.id()}
                            on_change={
                                let dispatch = dispatch.clone();
                                Callback::from(move |v: String| if let Some(p) = ShellProtocol::from_id(&v) {
                                    dispatch.emit(JumpFormAction::SetProtocol(p))
                                })
                            } />
                        <TextField id={field_id(Field::Port)} label={i18n.t("ui.jump.port")} value={input.port.clone()}
                            inputmode={AttrValue::from("numeric")}
                            error={error_for(&problems, Field::Port, i18n)} on_change={set(JumpFormAction::SetPort)} />
                    </div>
                }
                <button type="submit" class="rs-btn rs-btn-primary" id="rs-jump">{ i18n.t("ui.jump.button") }</button>
            </form>
            { props.children.clone() }
        </section>
    }
}
