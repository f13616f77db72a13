use super::*;
use crate::test_support::{get, send};

const BASE: &str = "/api/client_script?type=rep&operation=generate&session.custom.external_key=123";

#[tokio::test]
async fn every_action_with_its_required_parameters_answers_a_brcs_attachment() {
    let (a, r) = appliance();
    let valid = [
        "action=generate_session_key",
        "action=start_jump_item_session&jump.method=pinned&search_string=JANE-PC",
        "action=start_jump_item_session&jump.method=pinned&client.hostname=JANE-PC",
        "action=start_jump_item_session&jump.method=push&search_string=JANE-PC",
        "action=start_jump_item_session&jump.method=local_push&search_string=JANE-PC",
        "action=start_jump_item_session&jump.method=rdp&client.tag=lab",
        "action=start_jump_item_session&jump.method=vnc&client.private_ip=10.0.0.5",
        "action=start_jump_item_session&jump.method=shelljump&client.comments=db",
        "action=push_and_start_local&hostname=10.0.0.5",
        "action=push_and_start_remote&target=10.0.0.5&jumpoint=HQ",
        "action=start_rdp_session&target=10.0.0.5&jumpoint=HQ&username=admin&console=1",
        "action=start_shell_jump_session&target=db1&jumpoint=HQ&protocol=ssh&port=22&terminal=xterm",
    ];
    for query in valid {
        let answer = send(&r, get(&format!("{BASE}&{query}"), None)).await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        assert_eq!(
            answer.header("content-type"),
            "application/x-bomgar-rep-script"
        );
        assert!(
            answer
                .header("content-disposition")
                .starts_with("attachment; filename="),
            "{query}"
        );
        assert!(answer.body.contains("set session.custom.external_key 123"));
        assert_eq!(answer.header("x-frame-options"), "SAMEORIGIN", "{query}");
    }
    let calls = a.client_scripts();
    assert_eq!(calls.len(), valid.len());
    assert!(calls.iter().all(|c| c.status == 200));
    assert_eq!(calls[9].action.as_deref(), Some("push_and_start_remote"));
    assert_eq!(calls[9].param("jumpoint"), Some("HQ"));
    assert_eq!(calls[1].param("jump.method"), Some("pinned"));
}

#[tokio::test]
async fn undocumented_or_incomplete_calls_answer_an_error_page_and_are_recorded_as_refused() {
    let (a, r) = appliance();
    let invalid = [
        // Not in the current client scripting documentation.
        "action=start_pinned_client_session&search_string=x",
        "action=start_jump_item_session&search_string=x",
        "action=start_jump_item_session&jump.method=pinned",
        "action=start_jump_item_session&jump.method=pinned&search_string=%20",
        "action=start_jump_item_session&jump.method=pinned&client.unknown=x",
        "action=start_jump_item_session&jump.method=teleport&search_string=x",
        // Values older sandbox versions accepted; not documented.
        "action=start_jump_item_session&jump.method=remote_push&search_string=x",
        "action=start_jump_item_session&jump.method=shell&search_string=x",
        "action=start_jump_item_session&jump.method=web&search_string=x",
        "action=start_jump_item_session&jump.method=protocol_tunnel&search_string=x",
        "action=push_and_start_local",
        "action=push_and_start_remote&target=x",
        "action=start_rdp_session&jumpoint=HQ",
        "action=start_shell_jump_session&target=x&jumpoint=HQ&protocol=ftp",
        "action=start_shell_jump_session&target=x&jumpoint=HQ&port=0",
        "action=start_shell_jump_session&target=x&jumpoint=HQ&terminal=ansi",
        "action=format_disk",
        "",
    ];
    for query in invalid {
        let answer = send(&r, get(&format!("{BASE}&{query}"), None)).await;
        assert_eq!(answer.status, 400, "{query}");
        assert!(answer.header("content-type").starts_with("text/html"));
        assert!(answer.body.contains("<h1>Error</h1>"));
        assert_eq!(answer.header("x-frame-options"), "SAMEORIGIN");
    }
    let wrong_type = send(
        &r,
        get(
            "/api/client_script?type=customer&operation=generate&action=generate_session_key",
            None,
        ),
    )
    .await;
    assert_eq!(wrong_type.status, 400);
    let wrong_op = send(
        &r,
        get(
            "/api/client_script?type=rep&operation=run&action=generate_session_key",
            None,
        ),
    )
    .await;
    assert_eq!(wrong_op.status, 400);
    let calls = a.client_scripts();
    assert_eq!(calls.len(), invalid.len() + 2);
    assert!(calls.iter().all(|c| c.status == 400), "{calls:?}");
    assert_eq!(
        calls[0].action.as_deref(),
        Some("start_pinned_client_session")
    );
}

#[tokio::test]
async fn start_session_answers_a_page_and_records_the_call() {
    let (a, r) = appliance();
    let answer = send(&r, get("/api/start_session?issue_menu=1&codeName=printer&c2cjs=1&customer.name=Jane&customer.details=Long%20text&session.custom.external_key=42", None)).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("content-type").starts_with("text/html"));
    assert!(answer.body.contains("click-to-chat"));
    let calls = a.start_sessions();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action.as_deref(), Some("printer"));
    assert_eq!(calls[0].param("session.custom.external_key"), Some("42"));
}

#[tokio::test]
async fn start_session_validates_its_parameters() {
    let (a, r) = appliance();
    let name_100 = "n".repeat(100);
    let ok = send(
        &r,
        get(
            &format!("/api/start_session?issue_menu=1&codeName=x&customer.name={name_100}"),
            None,
        ),
    )
    .await;
    assert_eq!(ok.status, 200);
    for query in [
        format!("issue_menu=1&codeName=x&customer.name={}", "n".repeat(101)),
        format!(
            "issue_menu=1&codeName=x&customer.company={}",
            "c".repeat(101)
        ),
        format!(
            "issue_menu=1&codeName=x&customer.company_code={}",
            "c".repeat(101)
        ),
        "issue_menu=1".to_string(),
        "issue_menu=2&codeName=x".to_string(),
        "issue_menu=1&codeName=x&c2cjs=yes".to_string(),
        format!(
            "issue_menu=1&codeName=x&session.custom.external_key={}",
            "k".repeat(1025)
        ),
    ] {
        let answer = send(&r, get(&format!("/api/start_session?{query}"), None)).await;
        assert_eq!(answer.status, 400, "{query}");
    }
    assert_eq!(a.start_sessions().len(), 1);
}
