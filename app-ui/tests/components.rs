//! Component tests in headless chromium: render into a div, type, click, read the DOM.
#![cfg(target_arch = "wasm32")]

use app_core::jump_type::JumpType;
use app_core::settings::{Settings, SettingsError};
use app_ui::{Loaded, Sidebar, SidebarAction, SidebarView};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};
use yew::Callback;

wasm_bindgen_test_configure!(run_in_browser);

const CS: &str = "https://bt.example.com/api/client_script?type=rep&operation=generate&action=";

fn settings(types: &[JumpType], jumpoints: &[&str]) -> Settings {
    Settings {
        hostname: "bt.example.com".into(),
        issues: vec![],
        jumpoints: jumpoints.iter().map(|j| j.to_string()).collect(),
        jump_types: types.to_vec(),
    }
}

fn state(
    settings: Result<Settings, Vec<SettingsError>>,
    ticket_id: Option<u64>,
    locale: &str,
) -> Sidebar {
    Sidebar::default().apply(SidebarAction::Loaded(Loaded {
        settings,
        ticket_id,
        locale: locale.into(),
        is_admin: false,
    }))
}

struct View {
    root: Element,
    launched: Rc<RefCell<Vec<String>>>,
}

async fn render(state: Sidebar) -> View {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let launched = Rc::new(RefCell::new(Vec::new()));
    let record = launched.clone();
    yew::Renderer::<SidebarView>::with_root_and_props(
        root.clone(),
        app_ui::sidebar_view::SidebarViewProps {
            state,
            on_launch: Callback::from(move |u| {
                record.borrow_mut().push(u);
                app_ui::LaunchOutcome::Opened
            }),
            on_customize_help_center: None,
            api: None,
        },
    )
    .render();
    let view = View { root, launched };
    view.settle().await;
    view
}

impl View {
    /// Lets Yew's scheduler run (it renders from the event loop).
    async fn settle(&self) {
        gloo_timers::future::TimeoutFuture::new(0).await;
    }

    fn find(&self, selector: &str) -> Option<Element> {
        self.root.query_selector(selector).unwrap()
    }

    fn get(&self, selector: &str) -> Element {
        self.find(selector)
            .unwrap_or_else(|| panic!("{selector} not rendered"))
    }

    fn texts(&self, selector: &str) -> Vec<String> {
        let list = self.root.query_selector_all(selector).unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
            .collect()
    }

    fn fire(&self, element: &Element, kind: &str) {
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        let event = web_sys::Event::new_with_event_init_dict(kind, &init).unwrap();
        element.dispatch_event(&event).unwrap();
    }

    async fn type_into(&self, selector: &str, value: &str) {
        let input = self.get(selector);
        input.unchecked_ref::<HtmlInputElement>().set_value(value);
        self.fire(&input, "input");
        self.settle().await;
    }

    async fn choose(&self, selector: &str, value: &str) {
        let select = self.get(selector);
        select.unchecked_ref::<HtmlSelectElement>().set_value(value);
        self.fire(&select, "change");
        self.settle().await;
    }

    async fn click(&self, selector: &str) {
        self.get(selector).unchecked_into::<HtmlElement>().click();
        self.settle().await;
    }
}

#[wasm_bindgen_test]
async fn session_key_button_launches_and_shows_the_fallback_link() {
    let v = render(state(
        Ok(settings(&[JumpType::JumpClient], &[])),
        Some(8),
        "en",
    ))
    .await;
    assert_eq!(
        v.get("main").get_attribute("data-phase").as_deref(),
        Some("ready")
    );
    v.click("#rs-generate-session-key").await;
    let want = format!("{CS}generate_session_key&session.custom.external_key=8");
    assert_eq!(*v.launched.borrow(), vec![want.clone()]);
    assert_eq!(
        v.get("#rs-fallback-link").get_attribute("href"),
        Some(app_ui::launch_page(&want))
    );
    assert_eq!(
        v.get("#rs-fallback-link")
            .get_attribute("target")
            .as_deref(),
        Some("_blank")
    );
}

#[wasm_bindgen_test]
async fn type_picker_holds_only_enabled_types_and_jumpoint_appears_when_needed() {
    let v = render(state(
        Ok(settings(&[JumpType::LocalJump, JumpType::Rdp], &["A", "B"])),
        Some(1),
        "en",
    ))
    .await;
    assert_eq!(
        v.texts("#rs-jump-type option"),
        vec!["Local Jump", "Remote Desktop (RDP)"]
    );
    assert!(v.find("#rs-jumpoint").is_none());
    assert!(v.find("#rs-username").is_none());
    v.choose("#rs-jump-type", "rdp").await;
    assert_eq!(
        v.texts("#rs-jumpoint option"),
        vec!["Choose a Jumpoint", "A", "B"]
    );
    assert!(v.find("#rs-username").is_some());
    assert!(v.find("#rs-port").is_none());
}

#[wasm_bindgen_test]
async fn invalid_jump_shows_errors_and_launches_nothing() {
    let v = render(state(
        Ok(settings(&[JumpType::ShellJump], &["A", "B"])),
        Some(1),
        "en",
    ))
    .await;
    v.type_into("#rs-port", "0").await;
    v.click("#rs-jump").await;
    assert!(v.launched.borrow().is_empty());
    assert_eq!(
        v.texts(".rs-error"),
        vec![
            "Choose a Jumpoint.",
            "Enter a hostname or IP address.",
            "Enter a port number from 1 to 65535."
        ]
    );
    let target = v.get("#rs-target");
    assert_eq!(
        target.get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(
        target.get_attribute("aria-describedby").as_deref(),
        Some("rs-target-error")
    );
    // Fixing everything launches the exact Shell Jump URL.
    v.choose("#rs-jumpoint", "B").await;
    v.type_into("#rs-target", "sw-1.lan").await;
    v.choose("#rs-protocol", "telnet").await;
    v.type_into("#rs-port", "2323").await;
    v.type_into("#rs-username", "ops").await;
    assert!(v.texts(".rs-error").is_empty());
    v.click("#rs-jump").await;
    assert_eq!(
        *v.launched.borrow(),
        vec![format!(
            "{CS}start_shell_jump_session&target=sw-1.lan&jumpoint=B&username=ops&protocol=telnet&port=2323&session.custom.external_key=1"
        )]
    );
}

#[wasm_bindgen_test]
async fn labels_are_tied_to_their_fields() {
    let v = render(state(
        Ok(settings(&[JumpType::ShellJump], &["A"])),
        Some(1),
        "en",
    ))
    .await;
    let labels = v.root.query_selector_all("label").unwrap();
    assert_eq!(labels.length(), 6);
    for i in 0..labels.length() {
        let label: Element = labels.item(i).unwrap().unchecked_into();
        let target = label.get_attribute("for").expect("label has for");
        assert!(
            v.find(&format!("#{target}")).is_some(),
            "label for {target} has no field"
        );
    }
}

#[wasm_bindgen_test]
async fn invalid_and_not_saved_views_have_no_buttons() {
    let problems = vec![
        SettingsError::HostnameMissing,
        SettingsError::JumpointRequired {
            toggle: JumpType::Rdp,
        },
    ];
    let v = render(state(Err(problems), Some(1), "de")).await;
    let items = v.texts(".rs-problems li");
    assert_eq!(items.len(), 2);
    assert!(
        items[1].starts_with("„Remotedesktop-Sitzungen (RDP) erlauben“"),
        "{}",
        items[1]
    );
    assert!(v.find("button").is_none());

    let v = render(state(
        Ok(settings(&[JumpType::JumpClient], &[])),
        None,
        "en",
    ))
    .await;
    assert_eq!(
        v.get("main").get_attribute("data-phase").as_deref(),
        Some("not-saved")
    );
    assert!(v.find("button").is_none());
    assert!(v
        .get("[role=status]")
        .text_content()
        .unwrap()
        .contains("once this ticket is saved"));
}
