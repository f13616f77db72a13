//! The wasm entry point of the Zendesk sidebar app.
//!
//! `assets/iframe.html` loads Zendesk's ZAF SDK, then this module. Start-up:
//! 1. `ZAFClient.init()`; outside Zendesk (it returns `false`) the page says so and stops;
//! 2. nothing renders until the client is registered (`app.registered`);
//! 3. the root component loads settings, location, ticket and user, and renders app-ui (in a
//!    modal instance, `assets/modal.html`, the Customize Help Center dialog instead);
//! 4. the frame follows the content's height (`invoke('resize')`).

mod launcher;
mod load;
mod modal;
mod resize;
mod root;
mod zaf;
mod zaf_api;
mod zaf_js;

// The fake client serves the wasm tests (run in headless chromium); natively there are none.
#[cfg(all(test, target_arch = "wasm32"))]
mod fake;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use yew::Callback;

use crate::root::{Root, RootProps};
use crate::zaf::ZafClient;
use crate::zaf_js::JsZaf;

/// The element the app renders into (`<div id="app">` in iframe.html).
const APP_ID: &str = "app";

#[wasm_bindgen(start)]
pub fn start() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(root) = document.get_element_by_id(APP_ID) else {
        return;
    };
    let Some(client) = JsZaf::init() else {
        outside_zendesk(&root);
        return;
    };
    let client = Rc::new(client);
    let mounted = Cell::new(false);
    let for_handler = client.clone();
    client.on(
        "app.registered",
        Box::new(move || {
            if !mounted.replace(true) {
                mount(for_handler.clone(), root.clone());
            }
        }),
    );
}

fn mount(client: Rc<JsZaf>, root: web_sys::Element) {
    // The same bundle serves the sidebar and the Customize Help Center modal it opens.
    wasm_bindgen_futures::spawn_local(async move {
        match client.location().await {
            Ok(location) if location == zaf::MODAL => {
                let props = modal::ModalRootProps { client };
                yew::Renderer::<modal::ModalRoot<JsZaf>>::with_root_and_props(root, props).render();
            }
            _ => mount_sidebar(client, root),
        }
    });
}

fn mount_sidebar(client: Rc<JsZaf>, root: web_sys::Element) {
    let for_resize = client.clone();
    resize::observe(&root, move |height| for_resize.resize(height));
    let api = Some(zaf_api::ApiHost::new(client.clone()).sidebar_api());
    let props = RootProps {
        client,
        launch: Callback::from(|url: String| launcher::launch(&url)),
        api,
    };
    yew::Renderer::<Root<JsZaf>>::with_root_and_props(root, props).render();
}

/// The page was opened outside Zendesk: a plain sentence, in the browser's language.
fn outside_zendesk(root: &web_sys::Element) {
    let language = web_sys::window()
        .and_then(|w| w.navigator().language())
        .unwrap_or_default();
    let text = app_ui::I18n::for_locale(&language).t("ui.not_zendesk");
    let _ = root.set_attribute("data-phase", "outside-zendesk");
    root.set_text_content(Some(text));
}
