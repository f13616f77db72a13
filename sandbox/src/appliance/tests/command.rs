use super::*;
use crate::appliance::{unix_now, SessionSpec, XmlNamespace};
use crate::test_support::{enc, send};

const BT_COMMAND: &str = r#"xmlns="https://www.beyondtrust.com/namespaces/API/command""#;

fn error_text(body: &str) -> &str {
    let start = body.find("<error").expect("error root");
    let open_end = start + body[start..].find('>').expect(">") + 1;
    let close = body.find("</error>").expect("</error>");
    &body[open_end..close]
}

#[tokio::test]
async fn get_api_info_answers_api_information() {
    let (a, r) = appliance();
    let answer = api(&a, &r, "/api/command?action=get_api_info").await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("content-type").starts_with("text/xml"));
    assert!(
        answer
            .body
            .contains(&format!("<api_information {BT_COMMAND}>")),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("<api_version>1.24.1</api_version>"));
    assert!(answer
        .body
        .contains("<perm_command>full_access</perm_command>"));
    assert!(answer
        .body
        .contains("<perm_reporting_support>1</perm_reporting_support>"));
    let now = unix_now();
    let ts: i64 = answer
        .body
        .split("<timestamp>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.parse().ok())
        .expect("timestamp");
    assert!((now - ts).abs() < 5);
}

#[tokio::test]
async fn missing_and_unknown_actions_are_errors_with_http_200() {
    let (a, r) = appliance();
    let missing = api(&a, &r, "/api/command").await;
    assert_eq!(missing.status, 200);
    assert_eq!(
        error_text(&missing.body),
        "Missing required parameter: action."
    );
    let unknown = api(&a, &r, "/api/command?action=reboot").await;
    assert_eq!(
        (unknown.status, error_text(&unknown.body)),
        (200, "Invalid action: reboot.")
    );
    assert!(unknown.body.contains(&format!("<error {BT_COMMAND}>")));
}

#[tokio::test]
async fn generate_session_key_answers_a_session_key() {
    let (a, r) = appliance();
    let answer = api(&a, &r, "/api/command?action=generate_session_key&type=support&queue_id=general&ttl=3600&session.custom.external_key=12345").await;
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .body
            .contains(&format!(r#"<session_key type="support" {BT_COMMAND}>"#)),
        "{}",
        answer.body
    );
    let short: String = answer
        .body
        .split("<short_key>")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    assert_eq!(short.len(), 7);
    assert!(short.chars().all(|c| c.is_ascii_digit()));
    assert!(answer
        .body
        .contains(&format!("<key_url>{}/?ak=", a.base_url())));
    let expires: i64 = answer
        .body
        .split("<expires>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!((expires - unix_now() - 3600).abs() < 5);
    assert!(answer.body.contains("<mail_subject>") && answer.body.contains("<mail_body>"));
    let keys = a.session_keys();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].external_key.as_deref(), Some("12345"));
    assert_eq!(keys[0].short_key, short);
}

#[tokio::test]
async fn generate_session_key_accepts_every_queue_form_and_nothing_else() {
    let (a, r) = appliance();
    for queue in [
        "general",
        "rep:7",
        "team:3",
        "rep_username:jrep",
        "issue:printer",
    ] {
        let answer = api(
            &a,
            &r,
            &format!(
                "/api/command?action=generate_session_key&type=support&queue_id={}",
                enc(queue)
            ),
        )
        .await;
        assert!(
            answer.body.contains("<session_key"),
            "{queue}: {}",
            answer.body
        );
    }
    for queue in [
        "",
        "rep:",
        "rep:abc",
        "team:x1",
        "issue:",
        "everyone",
        "rep_username:",
    ] {
        let answer = api(
            &a,
            &r,
            &format!(
                "/api/command?action=generate_session_key&type=support&queue_id={}",
                enc(queue)
            ),
        )
        .await;
        assert_eq!(
            (answer.status, error_text(&answer.body)),
            (200, "Invalid queue_id."),
            "{queue}"
        );
    }
    let missing = api(
        &a,
        &r,
        "/api/command?action=generate_session_key&type=support",
    )
    .await;
    assert_eq!(
        error_text(&missing.body),
        "Missing required parameter: queue_id."
    );
}

#[tokio::test]
async fn generate_session_key_takes_type_support_only() {
    let (a, r) = appliance();
    let missing = api(
        &a,
        &r,
        "/api/command?action=generate_session_key&queue_id=general",
    )
    .await;
    assert_eq!(
        error_text(&missing.body),
        "Missing required parameter: type."
    );
    let other = api(
        &a,
        &r,
        "/api/command?action=generate_session_key&type=presentation&queue_id=general",
    )
    .await;
    assert!(error_text(&other.body).starts_with("Invalid type."));
}

#[tokio::test]
async fn generate_session_key_validates_ttl_and_external_key_length() {
    let (a, r) = appliance();
    for ttl in ["0", "-5", "soon"] {
        let answer = api(
            &a,
            &r,
            &format!(
                "/api/command?action=generate_session_key&type=support&queue_id=general&ttl={ttl}"
            ),
        )
        .await;
        assert!(
            error_text(&answer.body).starts_with("Invalid ttl."),
            "{ttl}"
        );
    }
    let ok = "k".repeat(1024);
    let answer = api(&a, &r, &format!("/api/command?action=generate_session_key&type=support&queue_id=general&session.custom.external_key={ok}")).await;
    assert!(answer.body.contains("<session_key"));
    let long = "k".repeat(1025);
    let answer = api(&a, &r, &format!("/api/command?action=generate_session_key&type=support&queue_id=general&session.custom.external_key={long}")).await;
    assert!(error_text(&answer.body).contains("1024"));
    assert_eq!(a.session_keys().len(), 1);
}

#[tokio::test]
async fn command_accepts_form_encoded_post() {
    let (a, r) = appliance();
    let auth = bearer(&a, &r).await;
    let answer = send(
        &r,
        post_form(
            "/api/command",
            Some(&auth),
            "action=generate_session_key&type=support&queue_id=team%3A4",
        ),
    )
    .await;
    assert!(answer.body.contains("<session_key"), "{}", answer.body);
    assert_eq!(a.session_keys()[0].queue_id, "team:4");
    assert_eq!(a.api_calls()[0].method, "POST");
}

#[tokio::test]
async fn set_session_attributes_links_a_running_session() {
    let (a, r) = appliance();
    let lsid = a.create_session(SessionSpec::default());
    let answer = api(&a, &r, &format!("/api/command?action=set_session_attributes&lsid={lsid}&session.custom.external_key=987&session.custom.zendesk_ticket=987")).await;
    assert!(
        answer.body.contains(&format!("<success {BT_COMMAND}>")),
        "{}",
        answer.body
    );
    assert_eq!(a.session_external_key(&lsid).as_deref(), Some("987"));
    a.end_session(&lsid);
    let report = api(
        &a,
        &r,
        &format!("/api/reporting?generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    assert!(report.body.contains("<external_key>987</external_key>"));
    assert!(report.body.contains(r#"<custom_attribute display_name="zendesk_ticket" code_name="zendesk_ticket">987</custom_attribute>"#));
    let ended = api(
        &a,
        &r,
        &format!(
            "/api/command?action=set_session_attributes&lsid={lsid}&session.custom.external_key=1"
        ),
    )
    .await;
    assert!(error_text(&ended.body).starts_with("The session has ended"));
}

#[tokio::test]
async fn set_session_attributes_rejects_unknown_lsid_and_missing_fields() {
    let (a, r) = appliance();
    let unknown = api(
        &a,
        &r,
        "/api/command?action=set_session_attributes&lsid=0123&session.custom.external_key=1",
    )
    .await;
    assert_eq!(
        (unknown.status, error_text(&unknown.body)),
        (200, "Invalid lsid.")
    );
    let lsid = a.create_session(SessionSpec::default());
    let empty = api(
        &a,
        &r,
        &format!("/api/command?action=set_session_attributes&lsid={lsid}"),
    )
    .await;
    assert_eq!(error_text(&empty.body), "No session attributes were given.");
    let no_lsid = api(
        &a,
        &r,
        "/api/command?action=set_session_attributes&session.custom.external_key=1",
    )
    .await;
    assert_eq!(
        error_text(&no_lsid.body),
        "Missing required parameter: lsid."
    );
}

#[tokio::test]
async fn namespace_switches_to_bomgar() {
    let (a, r) = appliance();
    a.set_xml_namespace(XmlNamespace::Bomgar);
    let answer = api(&a, &r, "/api/command?action=get_api_info").await;
    assert!(answer
        .body
        .contains(r#"<api_information xmlns="http://www.bomgar.com/namespaces/API/command">"#));
    let report = api(
        &a,
        &r,
        "/api/reporting?generate_report=SupportSession&lsid=nope",
    )
    .await;
    assert!(report.body.contains(r#"<error xmlns="http://www.bomgar.com/namespaces/API/reporting">No archives found for the given search criteria.</error>"#));
}

#[tokio::test]
async fn custom_fields_may_total_at_most_10_kb() {
    let (a, r) = appliance();
    let key = "ü".repeat(1024); // 1024 characters, 2048 bytes: within the key's own limit
    let base = "/api/command?action=generate_session_key&type=support&queue_id=general";
    // Code names count with the values: 12 + 2048 + 5 + n bytes.
    let fits = 10 * 1024 - (12 + 2048 + 5);
    let ok = api(
        &a,
        &r,
        &format!(
            "{base}&session.custom.external_key={}&session.custom.notes={}",
            enc(&key),
            "n".repeat(fits)
        ),
    )
    .await;
    assert!(ok.body.contains("<session_key"), "{}", ok.body);
    let over = api(
        &a,
        &r,
        &format!(
            "{base}&session.custom.external_key={}&session.custom.notes={}",
            enc(&key),
            "n".repeat(fits + 1)
        ),
    )
    .await;
    assert_eq!(
        (over.status, error_text(&over.body)),
        (
            200,
            "Custom session fields exceed the maximum total size of 10 KB."
        )
    );
    assert_eq!(a.session_keys().len(), 1);
    assert_eq!(
        a.session_keys()[0].external_key.as_deref(),
        Some(key.as_str())
    );
    let lsid = a.create_session(SessionSpec::default());
    let attrs = api(
        &a,
        &r,
        &format!(
            "/api/command?action=set_session_attributes&lsid={lsid}&session.custom.notes={}",
            "n".repeat(10 * 1024)
        ),
    )
    .await;
    assert!(error_text(&attrs.body).contains("10 KB"));
    assert!(a.session_external_key(&lsid).is_none());
}

#[tokio::test]
async fn namespace_switches_to_the_sra_form_of_the_real_pra_fixture() {
    let (a, r) = appliance();
    let set = send(
        &r,
        crate::test_support::json_request(
            "PUT",
            "/_control/namespace",
            None,
            r#"{"namespace":"beyondtrust_sra"}"#,
        ),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let lsid = a.create_session(SessionSpec::default());
    a.end_session(&lsid);
    let report = api(
        &a,
        &r,
        &format!("/api/reporting?generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    assert!(
        report.body.contains(
            r#"<session_list xmlns="http://www.beyondtrust.com/sra/namespaces/API/reporting">"#
        ),
        "{}",
        report.body
    );
    let info = api(&a, &r, "/api/command?action=get_api_info").await;
    assert!(info.body.contains(
        r#"<api_information xmlns="http://www.beyondtrust.com/sra/namespaces/API/command">"#
    ));
}
