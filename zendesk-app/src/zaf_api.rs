//! Zendesk API access for the session key card and the sessions list, through the ZAF client:
//! `client.request` (Zendesk's proxy for the appliance, Zendesk's own API for comments),
//! `ticket.comment.appendText`, and the clipboard.
//!
//! The appliance's credentials never reach this frame: requests carry `{{setting.…}}`
//! placeholders (see `app_core::session_key_api`) that Zendesk's proxy fills server-side. The
//! bearer token lives in this page's memory only and is never logged.

use app_core::session_key_api::{
    self as api, ApiSettings, GenerateOutcome, KeyFailure, ProxyAnswer, ProxyRequest, SessionKey,
};
use app_core::settings::{parse_hostname, RawValue};
use app_core::ticket_sessions::Comment;
use app_ui::SidebarApi;
use js_sys::{Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::Callback;

use crate::zaf_js::{JsClient, JsZaf};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(method, catch, js_name = request)]
    fn zaf_request(this: &JsClient, options: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = invoke)]
    fn zaf_invoke(this: &JsClient, name: &str, argument: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = metadata)]
    fn zaf_metadata(this: &JsClient) -> Result<Promise, JsValue>;
}

/// Most comment pages read for the sessions list (100 comments a page in Zendesk).
const MAX_COMMENT_PAGES: usize = 50;

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn text(value: JsValue) -> String {
    value.as_string().unwrap_or_default()
}

fn log(message: &str) {
    web_sys::console::error_1(&format!("Remote Support: {message}").into());
}

async fn promise(started: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(started?).await
}

/// API mode's host side. Settings are read from the `metadata()` answer the sidebar already
/// loaded (a second `metadata()` call would only repeat it).
pub struct ApiHost {
    client: Rc<JsZaf>,
    token: RefCell<Option<String>>,
}

impl ApiHost {
    pub fn new(client: Rc<JsZaf>) -> Rc<ApiHost> {
        Rc::new(ApiHost {
            client,
            token: RefCell::new(None),
        })
    }

    /// (appliance host, API-mode settings) from the loaded settings.
    fn settings(&self) -> (Option<String>, Result<Option<ApiSettings>, String>) {
        let settings = self.client.seen_settings();
        let raw = |name: &str| {
            let v = field(&settings, name);
            if let Some(b) = v.as_bool() {
                RawValue::Bool(b)
            } else if let Some(s) = v.as_string() {
                RawValue::Text(s)
            } else {
                RawValue::Missing
            }
        };
        let host = match raw("hostname") {
            RawValue::Text(t) => parse_hostname(&t).ok(),
            _ => None,
        };
        (host, ApiSettings::parse(raw).map_err(|e| e.to_string()))
    }

    /// The callbacks app-ui calls.
    pub fn sidebar_api(self: &Rc<Self>) -> SidebarApi {
        let generate = {
            let me = self.clone();
            Callback::from(
                move |(ticket, reply): (u64, Callback<Result<SessionKey, KeyFailure>>)| {
                    let me = me.clone();
                    spawn_local(async move { reply.emit(me.generate(ticket).await) });
                },
            )
        };
        let insert = {
            let me = self.clone();
            Callback::from(move |(text, reply): (String, Callback<bool>)| {
                let me = me.clone();
                spawn_local(async move {
                    let done = promise(
                        me.client
                            .js()
                            .zaf_invoke("ticket.comment.appendText", &text.into()),
                    )
                    .await;
                    if let Err(e) = &done {
                        web_sys::console::error_2(
                            &"Remote Support: ticket.comment.appendText".into(),
                            e,
                        );
                    }
                    reply.emit(done.is_ok());
                });
            })
        };
        let load_comments = {
            let me = self.clone();
            Callback::from(
                move |(ticket, reply): (u64, Callback<Result<Vec<Comment>, String>>)| {
                    let me = me.clone();
                    spawn_local(async move {
                        let result = me.comments(ticket).await;
                        if let Err(e) = &result {
                            log(e);
                        }
                        reply.emit(result);
                    });
                },
            )
        };
        let origin = frame_origin_param();
        SidebarApi {
            api_keys: {
                let me = self.clone();
                Callback::from(move |()| !matches!(me.settings().1, Ok(None)))
            },
            generate,
            copy: Callback::from(|(text, reply): (String, Callback<bool>)| {
                spawn_local(async move { reply.emit(copy(&text).await) })
            }),
            insert,
            load_comments,
            comment_href: Callback::from(move |(ticket, comment): (u64, u64)| {
                format!("{origin}/agent/tickets/{ticket}#comment-{comment}")
            }),
            now: Callback::from(|()| (js_sys::Date::now() / 1000.0).floor() as i64),
        }
    }

    async fn generate(&self, ticket: u64) -> Result<SessionKey, KeyFailure> {
        let (host, settings) = self.settings();
        let settings = match settings {
            Ok(Some(settings)) => settings,
            Ok(None) => return Err(KeyFailure::Unexpected("API mode is off".into())),
            Err(problem) => {
                log(&problem);
                return Err(KeyFailure::Unexpected(problem));
            }
        };
        let Some(host) = &host else {
            return Err(KeyFailure::Unexpected(
                "the hostname setting is invalid".into(),
            ));
        };
        // One fresh token at most: a cached one rejected with 401 is replaced once.
        let mut fresh = false;
        loop {
            let cached = self.token.borrow().clone();
            let token = match cached {
                Some(token) => token,
                None => {
                    fresh = true;
                    self.fetch_token(host).await?
                }
            };
            let answer = self
                .request(&api::generate_request(host, &settings, ticket, &token))
                .await;
            match api::read_generate_answer(&answer) {
                GenerateOutcome::Key(key) => return Ok(key),
                GenerateOutcome::TokenRejected => {
                    self.token.replace(None);
                    if fresh {
                        return Err(KeyFailure::NotPermitted);
                    }
                }
                GenerateOutcome::Failed(failure) => {
                    if let KeyFailure::Unexpected(detail) = &failure {
                        log(detail);
                    }
                    return Err(failure);
                }
            }
        }
    }

    async fn fetch_token(&self, host: &str) -> Result<String, KeyFailure> {
        let answer = self.request(&api::token_request(host)).await;
        // The body holds the token: read it, never log it.
        let access_token = js_sys::JSON::parse(&answer.body)
            .ok()
            .and_then(|json| field(&json, "access_token").as_string());
        let token = api::read_token_answer(&answer, access_token)
            .inspect_err(|_| log(&format!("oauth2/token: HTTP {}", answer.status)))?;
        self.token.replace(Some(token.clone()));
        Ok(token)
    }

    /// One proxied request; a rejected promise is an answer too (status 0 when none came).
    async fn request(&self, request: &ProxyRequest) -> ProxyAnswer {
        let options = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&options, &k.into(), &v);
        };
        set("url", request.url.as_str().into());
        set("type", request.method.into());
        set("secure", request.secure.into());
        set("cors", false.into());
        set("dataType", "text".into());
        set("httpCompleteResponse", true.into());
        if let Some(content_type) = request.content_type {
            set("contentType", content_type.into());
        }
        if let Some(data) = &request.data {
            set("data", data.as_str().into());
        }
        let headers = Object::new();
        for (name, value) in &request.headers {
            let _ = Reflect::set(&headers, &(*name).into(), &value.as_str().into());
        }
        set("headers", headers.into());
        let (answer, ok) = match promise(self.client.js().zaf_request(&options)).await {
            Ok(answer) => (answer, true),
            Err(error) => (error, false),
        };
        let status = field(&answer, "status")
            .as_f64()
            .map(|s| s as u16)
            .unwrap_or(if ok { 200 } else { 0 });
        let body = match field(&answer, "responseText").as_string() {
            Some(body) => body,
            None => text(answer),
        };
        ProxyAnswer { status, body }
    }

    /// Every comment of `ticket`, following `next_page`.
    async fn comments(&self, ticket: u64) -> Result<Vec<Comment>, String> {
        let mut url = format!("/api/v2/tickets/{ticket}/comments.json");
        let mut out = Vec::new();
        for _ in 0..MAX_COMMENT_PAGES {
            let options = Object::new();
            let _ = Reflect::set(&options, &"url".into(), &url.as_str().into());
            let _ = Reflect::set(&options, &"type".into(), &"GET".into());
            let _ = Reflect::set(&options, &"dataType".into(), &"json".into());
            let page = promise(self.client.js().zaf_request(&options))
                .await
                .map_err(|e| {
                    format!(
                        "reading comments: HTTP {}",
                        field(&e, "status").as_f64().unwrap_or(0.0) as u32
                    )
                })?;
            let comments: js_sys::Array = field(&page, "comments")
                .dyn_into()
                .map_err(|_| "the comments answer has no comments list".to_string())?;
            for c in comments.iter() {
                out.push(Comment {
                    id: field(&c, "id").as_f64().unwrap_or(0.0) as u64,
                    created_at: text(field(&c, "created_at")),
                    body: text(field(&c, "body")),
                    html_body: text(field(&c, "html_body")),
                });
            }
            match field(&page, "next_page").as_string() {
                Some(next) if !next.is_empty() => url = next,
                _ => return Ok(out),
            }
        }
        Err(format!(
            "the ticket has more than {MAX_COMMENT_PAGES} pages of comments"
        ))
    }
}

/// The Zendesk page's origin, which ZAF passes to the app frame as `?origin=`.
fn frame_origin_param() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get("origin"))
        .filter(|o| o.starts_with("https://") || o.starts_with("http://"))
        .unwrap_or_default()
}

/// The clipboard API, or (frames without the clipboard permission) a selected text area.
async fn copy(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = window.navigator().clipboard();
    if JsFuture::from(clipboard.write_text(text)).await.is_ok() {
        return true;
    }
    let Some(document) = window.document() else {
        return false;
    };
    let Ok(area) = document.create_element("textarea") else {
        return false;
    };
    let _ = Reflect::set(&area, &"value".into(), &text.into());
    let _ = area.set_attribute("style", "position:fixed;opacity:0");
    let Some(body) = document.body() else {
        return false;
    };
    let _ = body.append_child(&area);
    let call = |target: &JsValue, name: &str, args: &js_sys::Array| {
        field(target, name)
            .dyn_into::<js_sys::Function>()
            .ok()
            .and_then(|f| f.apply(target, args).ok())
    };
    call(&area, "select", &js_sys::Array::new());
    let copied = call(
        &document,
        "execCommand",
        &js_sys::Array::of1(&"copy".into()),
    )
    .and_then(|v| v.as_bool())
    .unwrap_or(false);
    area.remove();
    copied
}
