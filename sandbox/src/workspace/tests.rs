//! The workspace routes, tested without a port against a running sandbox's handles.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::Request;

use super::{router, seed_ticket, WorkspaceOptions};
use crate::test_support::{get, send};
use crate::{Sandbox, SandboxOptions};

/// A packaged-app folder with an iframe page that loads Zendesk's SDK, as the real one does.
fn app_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rsz-workspace-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(dir.join("assets")).expect("temp dir");
    for page in ["iframe.html", "modal.html"] {
        std::fs::write(
            dir.join("assets").join(page),
            format!(
                "<script src=\"{}\"></script><div id=app></div>",
                super::ZAF_SDK_URL
            ),
        )
        .expect("page");
    }
    std::fs::write(dir.join("assets/zendesk_app_bg.wasm"), b"\0asm\x01\0\0\0").expect("wasm");
    dir
}

async fn setup(issues: &str) -> (Sandbox, axum::Router, u64) {
    let sandbox = Sandbox::start(SandboxOptions {
        events_url: None,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox");
    let ticket = seed_ticket(&sandbox.zendesk);
    let options = WorkspaceOptions {
        app_dir: app_dir(),
        issues: issues.into(),
        jumpoints: "HQ".into(),
    };
    let app = router(sandbox.appliance.clone(), sandbox.zendesk.clone(), options);
    (sandbox, app, ticket)
}

#[tokio::test]
async fn agent_page_shows_the_ticket_and_frames_the_app() {
    let (sandbox, app, ticket) = setup("a=A").await;
    let page = send(&app, get(&format!("/agent/tickets/{ticket}"), None)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Printer on 3rd floor prints blank pages"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("/apps/remote-support/assets/iframe.html"));
    assert_eq!(
        send(&app, get("/agent/tickets/999", None)).await.status,
        404
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn iframe_page_loads_the_stand_in_sdk_and_files_stay_inside_the_app() {
    let (sandbox, app, _) = setup("a=A").await;
    // The sidebar and the modal it opens both get the stand-in.
    for page in ["iframe.html", "modal.html"] {
        let iframe = send(
            &app,
            get(&format!("/apps/remote-support/assets/{page}"), None),
        )
        .await;
        assert_eq!(iframe.status, 200);
        assert!(
            iframe.body.contains("/zaf/zaf_sdk.js") && !iframe.body.contains("zdassets"),
            "{page}: {}",
            iframe.body
        );
    }
    let wasm = send(
        &app,
        get("/apps/remote-support/assets/zendesk_app_bg.wasm", None),
    )
    .await;
    assert_eq!(wasm.header("content-type"), "application/wasm");
    for escape in [
        "/apps/remote-support/../../etc/passwd",
        "/apps/remote-support/assets/%2e%2e/%2e%2e/x",
    ] {
        assert_eq!(send(&app, get(escape, None)).await.status, 404, "{escape}");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn settings_name_the_simulated_appliance() {
    let (sandbox, app, _) = setup("a=A").await;
    let settings = send(&app, get("/_demo/settings", None)).await.json();
    assert_eq!(settings["hostname"], sandbox.appliance.host());
    assert_eq!(settings["allow_shell_jump"], true);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn end_session_runs_a_session_tied_to_the_ticket_and_queues_its_events() {
    let (sandbox, app, ticket) = setup("a=A").await;
    let req = Request::builder()
        .method("POST")
        .uri(format!("/_demo/tickets/{ticket}/end-session"))
        .body(Body::empty())
        .expect("req");
    let answer = send(&app, req).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let lsid = answer.json()["lsid"].as_str().expect("lsid").to_string();
    assert_eq!(
        sandbox.appliance.session_external_key(&lsid).as_deref(),
        Some(ticket.to_string().as_str())
    );
    // support_conference_end and both exit surveys wait for an events URL.
    assert_eq!(sandbox.appliance.pending_events(), 3);
    let missing = Request::builder()
        .method("POST")
        .uri("/_demo/tickets/999/end-session")
        .body(Body::empty())
        .expect("req");
    assert_eq!(send(&app, missing).await.status, 404);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn help_center_page_renders_the_snippet_with_the_request_escaped() {
    let (sandbox, app, _) = setup("general=General <b>Help</b>").await;
    let hostile = sandbox
        .zendesk
        .create_ticket("<img src=x onerror=alert(1)> & more");
    let page = send(&app, get(&format!("/hc/en-us/requests/{hostile}"), None)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Get Support Now"));
    assert!(
        page.body.contains("General &lt;b&gt;Help&lt;/b&gt;"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("<img src=x"),
        "request subject must be escaped"
    );
    assert!(page.body.contains(&format!("value=\"{hostile}\"")));
    assert!(page
        .body
        .contains(r#"name="customer.name" value="Jane Customer""#));
    for code in ["{{#is", "{{else}}", "{{/is}}"] {
        assert!(!page.body.contains(code), "{code} left unrendered");
    }
    sandbox.shutdown().await;
}

#[test]
fn the_is_helper_decides_the_snippets_conditions_like_help_center() {
    let texts = app_core::help_center::SnippetTexts::default();
    let issues = [("general".to_string(), "General".to_string())];
    let markup = app_core::help_center::snippet("bt.example.com", &issues, &texts)
        .expect("valid")
        .markup;
    let mut hb = handlebars::Handlebars::new();
    hb.register_helper("is", Box::new(super::IsHelper));
    let render = |requester: u64, viewer: u64, status: &str| {
        let context = serde_json::json!({
            "request": { "id": 9, "subject": "s", "status": status, "requester": { "id": requester, "name": "R" } },
            "user": { "id": viewer, "name": "V" },
        });
        hb.render_template(&markup, &context).expect("renders")
    };
    assert!(render(1, 1, "open").contains("<form"));
    assert!(render(1, 1, "solved").contains("<form"));
    assert!(
        !render(1, 2, "open").contains("<form"),
        "a CC sees no button"
    );
    assert!(!render(1, 1, "closed").contains("<form"), "closed request");
    assert!(!render(1, 2, "closed").contains("<form"));
}
