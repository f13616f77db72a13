use std::time::Duration;

use serde_json::json;

use super::*;
use crate::appliance::{SessionSpec, XmlNamespace};
use crate::test_support::{get, json_request, send};

#[tokio::test]
async fn control_creates_lags_and_ends_sessions() {
    let (a, r) = appliance();
    let spec = json!({
        "external_key": "77",
        "customers": [{"name": "Ann"}],
        "events": [{"type": "note", "by": {"rep": 0}, "text": "n"}],
        "customer_survey": [{"id": 1, "kind": "radio", "name": "rating", "label": "L", "report_header": "R", "answers": ["4"]}]
    });
    let created = send(
        &r,
        json_request("POST", "/_control/sessions", None, &spec.to_string()),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let lsid = created.json()["lsid"].as_str().unwrap().to_string();
    assert_eq!(a.session_external_key(&lsid).as_deref(), Some("77"));
    let lag = send(
        &r,
        json_request(
            "POST",
            &format!("/_control/sessions/{lsid}/lag"),
            None,
            r#"{"fetches":1}"#,
        ),
    )
    .await;
    assert_eq!(lag.status, 200);
    let ended = send(
        &r,
        json_request("POST", &format!("/_control/sessions/{lsid}/end"), None, ""),
    )
    .await;
    assert_eq!(ended.json()["pending_events"], 2, "end and customer survey");
    let listed = send(&r, get("/_control/sessions", None)).await;
    let session = &listed.json()["sessions"][0];
    assert_eq!(session["lsid"], lsid.as_str());
    assert_eq!(session["lag_remaining"], 1);
    assert!(session["end_time"].is_i64());
    let events = send(&r, get("/_control/events", None)).await.json();
    assert_eq!(
        events["pending"][0][0],
        json!(["event", "support_conference_end"])
    );
    assert_eq!(
        events["pending"][1][0],
        json!(["event", "support_conference_customer_exit_survey_completed"])
    );
    let unknown = send(
        &r,
        json_request("POST", "/_control/sessions/nope/end", None, ""),
    )
    .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn control_queues_any_event_for_a_session() {
    let (a, r) = appliance();
    let lsid = a.create_session(SessionSpec::default().external_key("5"));
    let body = json!({"event": "support_conference_member_added", "fields": [["type", "representative"], ["username", "jrep"]]});
    let answer = send(
        &r,
        json_request(
            "POST",
            &format!("/_control/sessions/{lsid}/events"),
            None,
            &body.to_string(),
        ),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(a.pending_events(), 1);
    let pending = send(&r, get("/_control/events", None)).await.json()["pending"][0].clone();
    assert!(pending
        .as_array()
        .unwrap()
        .contains(&json!(["username", "jrep"])));
    assert!(pending
        .as_array()
        .unwrap()
        .contains(&json!(["external_key", "5"])));
}

#[tokio::test]
async fn control_sets_url_lifetime_namespace_and_faults() {
    let (a, r) = appliance();
    send(
        &r,
        json_request("PUT", "/_control/events_url", None, r#"{"url":null}"#),
    )
    .await;
    let lifetime = send(
        &r,
        json_request("PUT", "/_control/token_lifetime", None, r#"{"seconds":7}"#),
    )
    .await;
    assert_eq!(lifetime.status, 200);
    assert_eq!(token_answer(&a, &r).await.json()["expires_in"], 7);
    send(
        &r,
        json_request(
            "PUT",
            "/_control/namespace",
            None,
            r#"{"namespace":"bomgar"}"#,
        ),
    )
    .await;
    assert!(api(&a, &r, "/api/command?action=get_api_info")
        .await
        .body
        .contains("bomgar.com"));
    send(
        &r,
        json_request(
            "PUT",
            "/_control/namespace",
            None,
            r#"{"namespace":"beyondtrust"}"#,
        ),
    )
    .await;
    assert!(api(&a, &r, "/api/command?action=get_api_info")
        .await
        .body
        .contains("beyondtrust.com"));
    a.set_xml_namespace(XmlNamespace::BeyondTrust);
    let faults = send(
        &r,
        json_request(
            "POST",
            "/_control/faults",
            None,
            r#"{"fail_next":1,"status":503,"slow_ms":0}"#,
        ),
    )
    .await;
    assert_eq!(faults.json()["pending_faults"], 1);
    assert_eq!(send(&r, get("/api/command", None)).await.status, 503);
    let bad = send(
        &r,
        json_request("POST", "/_control/faults", None, r#"{"explode":true}"#),
    )
    .await;
    assert_eq!(bad.status, 422, "unknown fault fields are refused");
    let state = send(&r, get("/_control/state", None)).await.json();
    assert_eq!(state["client_id"], a.client_id());
    assert!(state["events_url"].is_null());
}

#[tokio::test(start_paused = true)]
async fn control_down_for_ms_comes_back_by_itself() {
    let (a, r) = appliance();
    send(
        &r,
        json_request("POST", "/_control/faults", None, r#"{"down_for_ms":1000}"#),
    )
    .await;
    assert!(a.faults().is_down());
    tokio::time::sleep(Duration::from_millis(1001)).await;
    assert!(!a.faults().is_down());
}

#[tokio::test]
async fn control_lists_calls_without_secrets() {
    let (a, r) = appliance();
    api(
        &a,
        &r,
        "/api/command?action=generate_session_key&type=support&queue_id=general",
    )
    .await;
    send(
        &r,
        get(
            "/api/client_script?type=rep&operation=generate&action=generate_session_key",
            None,
        ),
    )
    .await;
    let calls = send(&r, get("/_control/calls", None)).await;
    let json = calls.json();
    assert_eq!(json["api_calls"][0]["action"], "generate_session_key");
    assert_eq!(json["client_scripts"][0]["action"], "generate_session_key");
    assert_eq!(json["session_keys"].as_array().unwrap().len(), 1);
    assert!(!calls.body.contains(&a.client_secret()));
}
