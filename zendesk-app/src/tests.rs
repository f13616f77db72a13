//! Wasm tests (headless chromium): the root component driven by the fake ZAF client.
#![cfg(target_arch = "wasm32")]

use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::Callback;

use crate::fake::FakeZaf;
use crate::root::{Root, RootProps};

wasm_bindgen_test_configure!(run_in_browser);

fn settings() -> serde_json::Value {
    json!({
        "hostname": "support.example.com",
        "issues": "general=General",
        "jumpoints": "Main Office",
        "allow_jump_client": true,
        "allow_local_jump": true,
        "allow_remote_jump": true,
        "allow_rdp": true,
        "allow_shell_jump": true,
    })
}

struct Mounted {
    root: web_sys::Element,
    client: Rc<FakeZaf>,
    launched: Rc<RefCell<Vec<String>>>,
}

fn mount(client: FakeZaf) -> Mounted {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let client = Rc::new(client);
    let launched = Rc::new(RefCell::new(Vec::new()));
    let record = launched.clone();
    let props = RootProps {
        client: client.clone(),
        launch: Callback::from(move |url| {
            record.borrow_mut().push(url);
            app_ui::LaunchOutcome::Opened
        }),
        api: None,
    };
    yew::Renderer::<Root<FakeZaf>>::with_root_and_props(root.clone(), props).render();
    Mounted {
        root,
        client,
        launched,
    }
}

impl Mounted {
    fn phase(&self) -> Option<String> {
        self.root
            .query_selector("[data-phase]")
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute("data-phase"))
    }

    /// Lets the event loop run until the sidebar reaches `phase` (bounded, fails otherwise).
    async fn until_phase(&self, phase: &str) {
        for _ in 0..200 {
            if self.phase().as_deref() == Some(phase) {
                return;
            }
            gloo_timers::future::TimeoutFuture::new(0).await;
        }
        panic!("phase stayed {:?}, expected {phase}", self.phase());
    }

    fn text(&self, selector: &str) -> String {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("{selector} not found"))
            .text_content()
            .unwrap_or_default()
    }

    fn click(&self, selector: &str) {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap()
            .unchecked_into::<web_sys::HtmlElement>()
            .click();
    }
}

async fn settle() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

#[wasm_bindgen_test]
async fn existing_ticket_is_ready_and_launches_the_session_key_url() {
    let m = mount(FakeZaf::new(
        "ticket_sidebar",
        settings(),
        Some(42),
        "agent",
        "en-US",
    ));
    m.until_phase("ready").await;
    m.click("#rs-generate-session-key");
    settle().await;
    let want = "https://support.example.com/api/client_script?type=rep&operation=generate&action=generate_session_key&session.custom.external_key=42";
    assert_eq!(*m.launched.borrow(), vec![want.to_string()]);
    let link = m
        .root
        .query_selector("#rs-fallback-link")
        .unwrap()
        .expect("fallback link");
    assert_eq!(link.get_attribute("href"), Some(app_ui::launch_page(want)));
}

#[wasm_bindgen_test]
async fn new_ticket_waits_for_ticket_saved() {
    let m = mount(FakeZaf::new(
        "new_ticket_sidebar",
        settings(),
        None,
        "agent",
        "en",
    ));
    m.until_phase("not-saved").await;
    assert!(
        m.root.query_selector("button").unwrap().is_none(),
        "no buttons before saving"
    );
    assert!(m.text("[data-phase]").contains("once this ticket is saved"));
    m.client.ticket_id.set(Some(77));
    m.client.fire("ticket.saved");
    m.until_phase("ready").await;
    m.click("#rs-generate-session-key");
    settle().await;
    assert!(m.launched.borrow()[0].ends_with("&session.custom.external_key=77"));
}

#[wasm_bindgen_test]
async fn invalid_settings_list_every_problem_in_the_agents_language() {
    let bad = json!({"hostname": "https://bt.example.com/", "issues": "oops", "allow_rdp": true});
    let m = mount(FakeZaf::new("ticket_sidebar", bad, Some(1), "agent", "de"));
    m.until_phase("invalid").await;
    let items = m.root.query_selector_all(".rs-problems li").unwrap();
    assert_eq!(items.length(), 3);
    let text = m.text(".rs-problems");
    assert!(text.contains("bt.example.com"), "{text}");
    assert!(text.contains("Zeile 1"), "{text}");
    assert!(
        text.contains("Remotedesktop-Sitzungen (RDP) erlauben"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn a_zendesk_failure_is_shown_not_swallowed() {
    let mut client = FakeZaf::new("ticket_sidebar", settings(), Some(1), "agent", "en");
    client.fail_metadata = true;
    let m = mount(client);
    m.until_phase("failed").await;
    assert!(m
        .text("[data-phase]")
        .contains("could not read its settings"));
}

#[wasm_bindgen_test]
async fn german_agent_sees_german_buttons() {
    let m = mount(FakeZaf::new(
        "ticket_sidebar",
        settings(),
        Some(5),
        "admin",
        "de-DE",
    ));
    m.until_phase("ready").await;
    assert_eq!(
        m.text("#rs-generate-session-key").trim(),
        "Sitzungsschlüssel erzeugen"
    );
    assert_eq!(
        m.root
            .query_selector("main")
            .unwrap()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("de")
    );
}

#[wasm_bindgen_test]
async fn customize_help_center_opens_a_zaf_modal() {
    let m = mount(FakeZaf::new(
        "ticket_sidebar",
        settings(),
        Some(5),
        "admin",
        "en",
    ));
    m.until_phase("ready").await;
    m.click("#rs-customize-help-center");
    settle().await;
    assert_eq!(
        *m.client.modals.borrow(),
        vec![("assets/modal.html".to_string(), 640, 620)]
    );
    assert!(
        m.root.query_selector("[role=dialog]").unwrap().is_none(),
        "no dialog squeezed into the sidebar"
    );
}

#[wasm_bindgen_test]
async fn the_modal_shows_the_help_center_dialog_and_closes_its_instance() {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let client = Rc::new(FakeZaf::new("modal", settings(), None, "admin", "en"));
    let props = crate::modal::ModalRootProps {
        client: client.clone(),
    };
    yew::Renderer::<crate::modal::ModalRoot<FakeZaf>>::with_root_and_props(root.clone(), props)
        .render();
    for _ in 0..200 {
        if root.query_selector("#rs-hc-close").unwrap().is_some() {
            break;
        }
        settle().await;
    }
    let dialog = root
        .query_selector("[role=dialog]")
        .unwrap()
        .expect("dialog");
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    root.query_selector("#rs-hc-close")
        .unwrap()
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    settle().await;
    assert_eq!(client.destroyed.get(), 1);
}
