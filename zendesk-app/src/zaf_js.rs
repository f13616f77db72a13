//! The real ZAF client: the `ZAFClient` global that Zendesk's SDK script defines.
//!
//! Values are read straight from the JS objects (`Reflect`), so the wasm carries no JSON parser.

use app_core::settings::{RawValue, Settings};
use js_sys::{Function, Object, Promise, Reflect};
use std::future::Future;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::zaf::{CurrentUser, SettingsResult, ZafClient, ZafError};

#[wasm_bindgen]
extern "C" {
    /// The object `ZAFClient.init()` returns.
    pub type JsClient;

    #[wasm_bindgen(method, catch)]
    fn get(this: &JsClient, paths: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn metadata(this: &JsClient) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn context(this: &JsClient) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn invoke(this: &JsClient, name: &str, argument: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method)]
    fn on(this: &JsClient, event: &str, handler: &Function);
}

/// The real client.
pub struct JsZaf {
    client: JsClient,
    /// The last `metadata().settings` object, for the secure-free API-mode settings (`zaf_api`).
    seen_settings: std::rc::Rc<std::cell::RefCell<JsValue>>,
}

fn err(context: &str, e: JsValue) -> ZafError {
    ZafError(format!(
        "{context}: {}",
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    ))
}

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Starts a promise now; the returned future awaits it.
fn call(
    what: &'static str,
    started: Result<Promise, JsValue>,
) -> impl Future<Output = Result<JsValue, ZafError>> {
    let future = started.map(JsFuture::from);
    async move {
        future
            .map_err(|e| err(what, e))?
            .await
            .map_err(|e| err(what, e))
    }
}

fn raw(value: JsValue) -> RawValue {
    if let Some(b) = value.as_bool() {
        RawValue::Bool(b)
    } else if let Some(s) = value.as_string() {
        RawValue::Text(s)
    } else if value.as_f64().is_some() {
        // JS's own number-to-text: Rust's float formatting would add kilobytes to the wasm.
        match value
            .unchecked_into::<js_sys::Number>()
            .to_string_with_radix(10)
        {
            Ok(text) => RawValue::Text(text.into()),
            Err(_) => RawValue::Missing,
        }
    } else {
        RawValue::Missing
    }
}

fn positive_id(value: &JsValue) -> Option<u64> {
    // A decimal string is read as an integer: Rust's float parser (with its tables) would add
    // kilobytes to the wasm, and an id is never fractional.
    let n = value.as_f64().or_else(|| {
        value
            .as_string()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(|n| n as f64)
    })?;
    (n >= 1.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0).then_some(n as u64)
}

impl JsZaf {
    /// The JS client object, for bindings kept in other modules (`zaf_api`).
    pub(crate) fn js(&self) -> &JsClient {
        &self.client
    }

    /// The settings object of the last `metadata()` answer (`undefined` before one arrived).
    pub(crate) fn seen_settings(&self) -> JsValue {
        self.seen_settings.borrow().clone()
    }

    /// `ZAFClient.init()`; `None` outside Zendesk (it returns `false`) or if the SDK did not load.
    pub fn init() -> Option<JsZaf> {
        let zaf = field(&js_sys::global(), "ZAFClient");
        let init: Function = field(&zaf, "init").dyn_into().ok()?;
        let client = init.call0(&zaf).ok()?;
        if client.is_falsy() || !client.is_object() {
            return None;
        }
        Some(JsZaf {
            client: client.unchecked_into(),
            seen_settings: Default::default(),
        })
    }
}

impl ZafClient for JsZaf {
    fn location(&self) -> impl Future<Output = Result<String, ZafError>> {
        let pending = call("context()", self.client.context());
        async move {
            let context = pending.await?;
            field(&context, "location")
                .as_string()
                .ok_or_else(|| ZafError("context() has no location".into()))
        }
    }

    fn settings(&self) -> impl Future<Output = Result<SettingsResult, ZafError>> {
        let pending = call("metadata()", self.client.metadata());
        let seen = self.seen_settings.clone();
        async move {
            let settings = field(&pending.await?, "settings");
            if !settings.is_object() {
                return Err(ZafError("metadata() has no settings".into()));
            }
            seen.replace(settings.clone());
            Ok(Settings::parse(|name| raw(field(&settings, name))))
        }
    }

    fn ticket_id(&self) -> impl Future<Output = Result<Option<u64>, ZafError>> {
        let pending = call(
            "get('ticket.id')",
            self.client.get(&JsValue::from_str("ticket.id")),
        );
        async move { Ok(positive_id(&field(&pending.await?, "ticket.id"))) }
    }

    fn current_user(&self) -> impl Future<Output = Result<CurrentUser, ZafError>> {
        let pending = call(
            "get('currentUser')",
            self.client.get(&JsValue::from_str("currentUser")),
        );
        async move {
            let user = field(&pending.await?, "currentUser");
            Ok(CurrentUser {
                role: field(&user, "role").as_string().unwrap_or_default(),
                locale: field(&user, "locale").as_string().unwrap_or_default(),
            })
        }
    }

    fn on(&self, event: &str, handler: Box<dyn Fn()>) {
        // App-lifetime handlers: the closure must outlive this call, so it is leaked on purpose.
        let closure = Closure::<dyn Fn()>::wrap(handler);
        self.client.on(event, closure.as_ref().unchecked_ref());
        closure.forget();
    }

    fn open_modal(&self, url: &str, width_px: u32, height_px: u32) {
        let options = Object::new();
        let size = Object::new();
        let _ = Reflect::set(&size, &"width".into(), &format!("{width_px}px").into());
        let _ = Reflect::set(&size, &"height".into(), &format!("{height_px}px").into());
        let _ = Reflect::set(&options, &"location".into(), &"modal".into());
        let _ = Reflect::set(&options, &"url".into(), &url.into());
        let _ = Reflect::set(&options, &"size".into(), &size);
        if let Err(e) = self.client.invoke("instances.create", &options) {
            web_sys::console::warn_1(&e);
        }
    }

    fn destroy(&self) {
        if let Err(e) = self.client.invoke("destroy", &JsValue::UNDEFINED) {
            web_sys::console::warn_1(&e);
        }
    }

    fn resize(&self, height_px: u32) {
        let size = Object::new();
        let _ = Reflect::set(&size, &"width".into(), &"100%".into());
        let _ = Reflect::set(&size, &"height".into(), &format!("{height_px}px").into());
        if let Err(e) = self.client.invoke("resize", &size) {
            web_sys::console::warn_1(&e);
        }
    }
}
