//! How the sidebar hands a client-script URL to the representative console.
//!
//! `https://HOST/api/client_script?...` answers a BRCS file (a download) that the installed
//! representative console opens. The sidebar opens it in a **new top-level browsing context**,
//! synchronously inside the agent's click (so the browser's user activation still holds):
//! - a top-level context is not subject to the app frame's restrictions: a Zendesk app iframe
//!   may be sandboxed without `allow-downloads`, the appliance answers `X-Frame-Options:
//!   SAMEORIGIN`, and Chrome's Local Network Access blocks frames from a public page (Zendesk)
//!   to a private address (an internal appliance), while top-level navigations are exempt;
//! - the sidebar itself never navigates away, even if the appliance answers a page (a login or
//!   an error) instead of the download: that page appears in the new tab, where it can be read.
//!
//! The new tab first loads the app's own `launch.html` with the URL in its fragment, which then
//! navigates to it: Chrome applies the sandbox flags of the frame that *starts* a navigation to
//! its download, even in a new tab, so a download started by the sidebar's frame in a Zendesk
//! sandbox without `allow-downloads` is dropped; started by the (unsandboxed, thanks to
//! `allow-popups-to-escape-sandbox`) launch page, it goes through. That page stays open after
//! the download with a short text and a link to open the console again.
//!
//! `window.open(url, "_blank")` rather than `noopener` in the features: with `noopener` the
//! browser always returns `null`, so a blocked pop-up (a pop-up blocker, or a sandbox without
//! `allow-popups`) would be indistinguishable from a launch. The opener is cut right away
//! instead (`opener = null` while the new window still holds its initial, same-origin
//! `about:blank`), so the appliance's page cannot reach back into the sidebar.

use app_ui::launch_page;
use app_ui::LaunchOutcome;
use wasm_bindgen::JsValue;
use web_sys::js_sys::Reflect;

/// Opens `url` in a new tab or window; `Blocked` when the browser refused to open one.
pub fn launch(url: &str) -> LaunchOutcome {
    let Some(window) = web_sys::window() else {
        return LaunchOutcome::Blocked;
    };
    match window.open_with_url_and_target(&launch_page(url), "_blank") {
        Ok(Some(opened)) => {
            // Best effort: a browser that already isolated the new window may refuse the write.
            let _ = Reflect::set(&opened, &JsValue::from_str("opener"), &JsValue::NULL);
            LaunchOutcome::Opened
        }
        Ok(None) | Err(_) => LaunchOutcome::Blocked,
    }
}
