//! A single status message: loading, ticket not saved yet, or Zendesk not answering.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct MessageViewProps {
    pub text: AttrValue,
}

/// A polite live region, so screen readers announce the change from "loading".
#[function_component]
pub fn MessageView(props: &MessageViewProps) -> Html {
    html! { <p class="rs-message" role="status">{ props.text.clone() }</p> }
}
