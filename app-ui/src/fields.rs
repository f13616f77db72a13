//! Labelled form fields in the Garden style: the `<label for>` ties the text to the control (its
//! accessible name), and an error below it is linked with `aria-describedby`.

use yew::prelude::*;

/// The id of a field's error message.
fn error_id(id: &str) -> String {
    format!("{id}-error")
}

fn error_view(id: &str, error: &Option<AttrValue>) -> Html {
    match error {
        Some(text) => html! { <p class="rs-error" id={error_id(id)}>{ text.clone() }</p> },
        None => html! {},
    }
}

#[derive(Properties, PartialEq)]
pub struct TextFieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// `text` or `number`-like inputs: `inputmode` hint (e.g. `numeric`).
    #[prop_or_default]
    pub inputmode: Option<AttrValue>,
    pub on_change: Callback<String>,
}

/// A one-line text input.
#[function_component]
pub fn TextField(props: &TextFieldProps) -> Html {
    let on_change = props.on_change.clone();
    let oninput = Callback::from(move |e: InputEvent| {
        on_change.emit(
            e.target_unchecked_into::<web_sys::HtmlInputElement>()
                .value(),
        );
    });
    let invalid = props.error.is_some();
    html! {
        <div class="rs-field">
            <label class="rs-label" for={props.id.clone()}>{ props.label.clone() }</label>
            <input
                class="rs-input"
                type="text"
                id={props.id.clone()}
                name={props.id.clone()}
                value={props.value.clone()}
                inputmode={props.inputmode.clone()}
                autocomplete="off"
                spellcheck="false"
                aria-invalid={invalid.then_some("true")}
                aria-describedby={invalid.then(|| error_id(&props.id))}
                {oninput}
            />
            { error_view(&props.id, &props.error) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SelectFieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    /// `(value, text)` pairs.
    pub options: Vec<(AttrValue, AttrValue)>,
    pub value: AttrValue,
    /// A first, empty option ("Choose …") when nothing is selected yet.
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
    #[prop_or_default]
    pub error: Option<AttrValue>,
    pub on_change: Callback<String>,
}

/// A native `<select>` (keyboard and screen-reader behaviour for free).
#[function_component]
pub fn SelectField(props: &SelectFieldProps) -> Html {
    let on_change = props.on_change.clone();
    let onchange = Callback::from(move |e: Event| {
        on_change.emit(
            e.target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value(),
        );
    });
    let invalid = props.error.is_some();
    html! {
        <div class="rs-field">
            <label class="rs-label" for={props.id.clone()}>{ props.label.clone() }</label>
            <select
                class="rs-select"
                id={props.id.clone()}
                name={props.id.clone()}
                aria-invalid={invalid.then_some("true")}
                aria-describedby={invalid.then(|| error_id(&props.id))}
                {onchange}
            >
                if let Some(placeholder) = &props.placeholder {
                    <option value="" selected={props.value.is_empty()}>{ placeholder.clone() }</option>
                }
                { for props.options.iter().map(|(value, text)| html! {
                    <option value={value.clone()} selected={*value == props.value}>{ text.clone() }</option>
                }) }
            </select>
            { error_view(&props.id, &props.error) }
        </div>
    }
}
