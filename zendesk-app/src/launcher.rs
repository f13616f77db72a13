//! How the sidebar hands a client-script URL to the representative console.
//!
//! `https://HOST/api/client_script?...` answers a BRCS file (a download) that the installed
//! representative console opens. The sidebar navigates a fresh, hidden `<iframe>` to it:
//! - no pop-up blocker involved and no empty tab left behind (unlike `window.open`);
//! - the sidebar itself never navigates away (unlike assigning `location`), even if the appliance
//!   answers a page instead of a download;
//! - a new frame per launch, so pressing the same button twice launches twice.
//!
//! If the browser refuses (a sandbox without downloads, a blocked third-party frame), the sidebar
//! shows a fallback link that the agent clicks to open the same URL in a new tab.

use wasm_bindgen::JsCast;

const FRAME_ID: &str = "rs-launch-frame";

/// Navigates a new hidden frame to `url`.
pub fn launch(url: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(old) = document.get_element_by_id(FRAME_ID) {
        old.remove();
    }
    let Ok(frame) = document.create_element("iframe") else {
        return;
    };
    let _ = frame.set_attribute("id", FRAME_ID);
    let _ = frame.set_attribute("hidden", "");
    let _ = frame.set_attribute("aria-hidden", "true");
    let _ = frame.set_attribute("tabindex", "-1");
    let _ = frame.set_attribute("title", "BeyondTrust representative console launcher");
    let _ = frame.set_attribute("src", url);
    if let Some(body) = document.body() {
        let _ = body.append_child(frame.unchecked_ref());
    }
}
