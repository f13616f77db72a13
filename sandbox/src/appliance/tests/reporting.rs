use base64::Engine;

use super::dom::{parse, Node};
use super::*;
use crate::appliance::{Customer, Party, Rep, SessionSpec, SysInfoCategory};

const REPORTING_NS: &str = "https://www.beyondtrust.com/namespaces/API/reporting";

async fn report(a: &Appliance, r: &Router, query: &str) -> Node {
    let answer = api(a, r, &format!("/api/reporting?{query}")).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("content-type").starts_with("text/xml"));
    parse(&answer.body)
}

fn events<'a>(session: &'a Node, kind: &str) -> Vec<&'a Node> {
    session
        .child("session_details")
        .expect("session_details")
        .all("event")
        .into_iter()
        .filter(|e| e.attr("event_type") == Some(kind))
        .collect()
}

fn full_spec() -> SessionSpec {
    SessionSpec::default()
        .external_key("12345")
        .start_time(1_700_000_000)
        .customer(Customer::default())
        .customer(Customer::named("Jürgen Ünïcode ✓"))
        .rep(Rep::default())
        .rep(Rep::named("Second Rep", 9))
        .custom_attribute("zendesk_ticket", "Zendesk Ticket", "12345")
        .chat(Party::REP, "Hello, I will take a look now.")
        .chat(Party::CUSTOMER, "Bell \u{7} and <tags> & ünïcode")
        .file_upload(
            Party::REP,
            r"C:\Users\jcustomer\Desktop\driver.zip",
            1_048_576,
        )
        .file_download(Party::Rep(1), "log.txt", 2048)
        .note(Party::REP, "Reinstalled printer driver.")
        .system_info(vec![SysInfoCategory {
            name: "Overview".into(),
            columns: vec![
                ("OS".into(), "Operating System".into()),
                ("Memory".into(), "Memory".into()),
            ],
            rows: vec![vec![
                ("OS".into(), "Windows 11 Pro".into()),
                ("Memory".into(), "16 GB".into()),
            ]],
        }])
        .customer_survey([("rating", "5"), ("comments", "Great help, thanks!")])
        .rep_survey([("resolved", "yes")])
        .recording(true)
}

#[tokio::test]
async fn support_session_by_lsid_has_the_fixture_shape() {
    let (a, r) = appliance();
    let lsid = a.create_session(full_spec());
    a.end_session(&lsid);
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    assert_eq!(list.name, "session_list");
    assert_eq!(list.attr("xmlns"), Some(REPORTING_NS));
    let s = list.child("session").expect("session");
    assert_eq!(s.attr("lsid"), Some(lsid.as_str()));
    assert_eq!(s.text_at(&["session_type"]), Some("support"));
    assert_eq!(
        s.path(&["start_time"]).unwrap().attr("timestamp"),
        Some("1700000000")
    );
    assert_eq!(
        s.text_at(&["start_time"]),
        Some("2023-11-14T22:13:20+00:00")
    );
    let end = s.path(&["end_time"]).expect("end_time");
    assert!(end.attr("timestamp").unwrap().parse::<i64>().unwrap() > 1_700_000_000);
    assert_eq!(s.text_at(&["external_key"]), Some("12345"));
    let attr = s.path(&["custom_attributes", "custom_attribute"]).unwrap();
    assert_eq!(
        (
            attr.attr("code_name"),
            attr.attr("display_name"),
            attr.text.as_str()
        ),
        (Some("zendesk_ticket"), Some("Zendesk Ticket"), "12345")
    );
    for url in [
        "session_chat_view_url",
        "session_chat_download_url",
        "session_recording_view_url",
        "session_recording_download_url",
    ] {
        assert!(
            s.text_at(&[url])
                .unwrap()
                .starts_with(&format!("{}/session_download?lsid=", a.base_url())),
            "{url}"
        );
    }
    assert!(s
        .text_at(&["session_chat_view_url"])
        .unwrap()
        .ends_with("&dl_action=chat&view=1"));
    assert_eq!(s.text_at(&["file_transfer_count"]), Some("2"));
    assert_eq!(
        s.path(&["primary_customer"]).unwrap().attr("gsnumber"),
        Some("3")
    );
    assert_eq!(s.path(&["primary_rep"]).unwrap().attr("id"), Some("7"));
    assert_eq!(s.text_at(&["primary_rep"]), Some("John Rep"));
}

#[tokio::test]
async fn support_session_lists_every_customer_and_rep() {
    let (a, r) = appliance();
    let lsid = a.create_session(full_spec());
    a.end_session(&lsid);
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    let s = list.child("session").unwrap();
    let customers = s.child("customer_list").unwrap().all("customer");
    assert_eq!(customers.len(), 2);
    assert_eq!(customers[0].text_at(&["primary_cust"]), Some("1"));
    assert_eq!(
        customers[1].text_at(&["info", "name"]),
        Some("Jürgen Ünïcode ✓")
    );
    assert_eq!(
        customers[0].text_at(&["info", "company"]),
        Some("Example Corp")
    );
    let reps = s.child("rep_list").unwrap().all("representative");
    assert_eq!(reps.len(), 2);
    assert_eq!(
        (reps[1].attr("gsnumber"), reps[1].attr("id")),
        (Some("2"), Some("9"))
    );
    assert_eq!(reps[0].text_at(&["session_owner"]), Some("1"));
    assert_eq!(reps[1].text_at(&["display_name"]), Some("Second Rep"));
    assert_eq!(events(s, "Conference Member Added").len(), 4);
}

#[tokio::test]
async fn support_session_events_carry_chat_files_notes_and_system_info() {
    let (a, r) = appliance();
    let lsid = a.create_session(full_spec());
    a.end_session(&lsid);
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    let s = list.child("session").unwrap();
    let kinds: Vec<&str> = s
        .child("session_details")
        .unwrap()
        .all("event")
        .iter()
        .filter_map(|e| e.attr("event_type"))
        .collect();
    assert_eq!(kinds.first(), Some(&"Session Start"));
    assert_eq!(kinds.last(), Some(&"Session End"));
    let chats = events(s, "Chat Message");
    assert_eq!(
        chats[0].text_at(&["body"]),
        Some("Hello, I will take a look now.")
    );
    assert_eq!(
        chats[0].path(&["performed_by"]).unwrap().attr("type"),
        Some("representative")
    );
    assert_eq!(
        chats[0].path(&["destination"]).unwrap().attr("type"),
        Some("customer")
    );
    let upload = events(s, "File Upload")[0];
    assert_eq!(
        upload.text_at(&["filename"]),
        Some(r"C:\Users\jcustomer\Desktop\driver.zip")
    );
    assert_eq!(upload.text_at(&["filesize"]), Some("1048576"));
    let download = events(s, "File Download")[0];
    assert_eq!(download.path(&["performed_by"]).unwrap().text, "Second Rep");
    assert_eq!(
        events(s, "Session Note Added")[0].text_at(&["body"]),
        Some("Reinstalled printer driver.")
    );
    let category = events(s, "System Information Retrieved")[0]
        .path(&["system_information", "category"])
        .unwrap();
    assert_eq!(category.attr("name"), Some("Overview"));
    let columns = category.child("description").unwrap().all("field");
    assert_eq!(
        (columns[0].attr("name"), columns[0].text.as_str()),
        (Some("OS"), "Operating System")
    );
    let row = category.path(&["data", "row"]).unwrap().all("field");
    assert_eq!(
        (row[1].attr("name"), row[1].text.as_str()),
        (Some("Memory"), "16 GB")
    );
    let times: Vec<i64> = s
        .child("session_details")
        .unwrap()
        .all("event")
        .iter()
        .map(|e| e.attr("timestamp").unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[tokio::test]
async fn text_xml_cannot_carry_goes_in_encoded_body() {
    let (a, r) = appliance();
    let lsid = a.create_session(full_spec());
    a.end_session(&lsid);
    let answer = api(
        &a,
        &r,
        &format!("/api/reporting?generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    assert!(!answer.body.contains('\u{7}'));
    let list = parse(&answer.body);
    let chat = events(list.child("session").unwrap(), "Chat Message")[1];
    assert!(chat.child("body").is_none());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(chat.text_at(&["encoded_body"]).unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "Bell \u{7} and <tags> & ünïcode"
    );
}

#[tokio::test]
async fn session_surveys_appear_in_the_session_report() {
    let (a, r) = appliance();
    let lsid = a.create_session(full_spec());
    a.end_session(&lsid);
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    let s = list.child("session").unwrap();
    let q = s
        .path(&["cust_survey_list", "cust_exit_survey", "question_list"])
        .unwrap()
        .all("question");
    assert_eq!(q[0].text_at(&["answer_list", "answer"]), Some("5"));
    assert!(s.path(&["rep_survey_list", "rep_exit_survey"]).is_some());
}

#[tokio::test]
async fn unknown_lsid_answers_no_archives_found() {
    let (a, r) = appliance();
    let answer = api(
        &a,
        &r,
        "/api/reporting?generate_report=SupportSession&lsid=00000000000000000000000000000000",
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains(&format!(r#"<error xmlns="{REPORTING_NS}">No archives found for the given search criteria.</error>"#)), "{}", answer.body);
}

#[tokio::test]
async fn missing_and_unknown_reports_are_errors() {
    let (a, r) = appliance();
    let missing = parse(&api(&a, &r, "/api/reporting?lsid=x").await.body);
    assert_eq!(
        (missing.name.as_str(), missing.text.as_str()),
        ("error", "Missing required parameter: generate_report.")
    );
    let unknown = parse(
        &api(&a, &r, "/api/reporting?generate_report=Nope")
            .await
            .body,
    );
    assert_eq!(unknown.text, "Invalid report type: Nope.");
    let no_criteria = parse(
        &api(&a, &r, "/api/reporting?generate_report=SupportSession")
            .await
            .body,
    );
    assert_eq!(no_criteria.name, "error");
    let no_duration = parse(
        &api(
            &a,
            &r,
            "/api/reporting?generate_report=SupportSession&end_time=1",
        )
        .await
        .body,
    );
    assert_eq!(no_duration.text, "Missing required parameter: duration.");
}

#[tokio::test]
async fn lsids_returns_each_known_session() {
    let (a, r) = appliance();
    let one = a.create_session(SessionSpec::default().external_key("1"));
    let two = a.create_session(SessionSpec::default().external_key("2"));
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSession&lsids={one},{two},ffff"),
    )
    .await;
    let lsids: Vec<&str> = list
        .all("session")
        .iter()
        .filter_map(|s| s.attr("lsid"))
        .collect();
    assert_eq!(lsids, vec![one.as_str(), two.as_str()]);
}

#[tokio::test]
async fn end_time_window_selects_sessions_that_ended_in_it() {
    let (a, r) = appliance();
    let old = a.create_session(SessionSpec::default().start_time(1_000));
    a.end_session(&old);
    let recent = a.create_session(SessionSpec::default());
    a.end_session(&recent);
    let running = a.create_session(SessionSpec::default());
    let since = crate::appliance::unix_now() - 60;
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSession&end_time={since}&duration=0"),
    )
    .await;
    let lsids: Vec<&str> = list
        .all("session")
        .iter()
        .filter_map(|s| s.attr("lsid"))
        .collect();
    assert!(lsids.contains(&recent.as_str()));
    assert!(
        lsids.contains(&old.as_str()),
        "ended now, although started long ago"
    );
    assert!(!lsids.contains(&running.as_str()));
    let before = report(
        &a,
        &r,
        "generate_report=SupportSession&end_time=0&duration=100",
    )
    .await;
    assert_eq!(before.name, "error");
}

#[tokio::test]
async fn running_sessions_have_no_end_time() {
    let (a, r) = appliance();
    let lsid = a.create_session(SessionSpec::default());
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    let s = list.child("session").unwrap();
    assert!(s.child("end_time").is_none());
    assert!(events(s, "Session End").is_empty());
}

#[tokio::test]
async fn report_lag_hides_end_time_for_the_first_fetches() {
    let (a, r) = appliance();
    let lsid = a.create_session(SessionSpec::default());
    a.end_session(&lsid);
    a.report_lag(&lsid, 2);
    let query = format!("generate_report=SupportSession&lsid={lsid}");
    for fetch in 1..=2 {
        let list = report(&a, &r, &query).await;
        assert!(
            list.child("session").unwrap().child("end_time").is_none(),
            "fetch {fetch}"
        );
    }
    let list = report(&a, &r, &query).await;
    assert!(list.child("session").unwrap().child("end_time").is_some());
}

#[tokio::test]
async fn archive_lag_answers_no_archives_for_the_first_fetches() {
    let (a, r) = appliance();
    let lsid = a.create_session(SessionSpec::default());
    a.end_session(&lsid);
    a.archive_lag(&lsid, 2);
    let query = format!("generate_report=SupportSession&lsid={lsid}");
    for fetch in 1..=2 {
        let answer = report(&a, &r, &query).await;
        assert_eq!(answer.name, "error", "fetch {fetch}");
        assert_eq!(
            answer.text.trim(),
            "No archives found for the given search criteria."
        );
    }
    let list = report(&a, &r, &query).await;
    assert!(list.child("session").unwrap().child("end_time").is_some());
}

#[tokio::test]
async fn listing_gives_lsid_external_key_and_recording() {
    let (a, r) = appliance();
    let with = a.create_session(SessionSpec::default().external_key("77").recording(true));
    let without = a.create_session(SessionSpec::default());
    a.end_session(&with);
    a.end_session(&without);
    let since = crate::appliance::unix_now() - 60;
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSessionListing&end_time={since}&duration=0"),
    )
    .await;
    assert_eq!(list.name, "session_summary_list");
    let items = list.all("session_summary");
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            items[0].attr("lsid"),
            items[0].attr("external_key"),
            items[0].attr("has_recording")
        ),
        (Some(with.as_str()), Some("77"), Some("1"))
    );
    assert_eq!(
        (
            items[1].attr("external_key"),
            items[1].attr("has_recording")
        ),
        (Some(""), Some("0"))
    );
}

#[tokio::test]
async fn exit_survey_reports_follow_the_fixture() {
    let (a, r) = appliance();
    let lsid = a.create_session(full_spec());
    a.end_session(&lsid);
    let cust = report(
        &a,
        &r,
        &format!("generate_report=SupportCustExitSurvey&lsid={lsid}&report_type=rep"),
    )
    .await;
    assert_eq!(cust.name, "exit_survey_list");
    let survey = cust.child("exit_survey").unwrap();
    assert_eq!(survey.attr("lsid"), Some(lsid.as_str()));
    assert!(survey.attr("timestamp").is_some());
    assert_eq!(
        survey.path(&["submitted_by"]).unwrap().attr("type"),
        Some("cust")
    );
    let questions = survey.child("question_list").unwrap().all("question");
    assert_eq!(questions[0].text_at(&["name"]), Some("rating"));
    assert_eq!(questions[0].text_at(&["type"]), Some("radio"));
    assert_eq!(
        questions[1].text_at(&["answer_list", "answer"]),
        Some("Great help, thanks!")
    );
    let rep = report(
        &a,
        &r,
        &format!("generate_report=SupportRepExitSurvey&lsid={lsid}&report_type=rep"),
    )
    .await;
    assert_eq!(
        rep.path(&["exit_survey", "submitted_by"])
            .unwrap()
            .attr("type"),
        Some("rep")
    );
    let missing = report(
        &a,
        &r,
        &format!("generate_report=SupportRepExitSurvey&lsid={lsid}"),
    )
    .await;
    assert_eq!(missing.text, "Missing required parameter: report_type.");
    let none = a.create_session(SessionSpec::default());
    a.end_session(&none);
    let empty = report(
        &a,
        &r,
        &format!("generate_report=SupportCustExitSurvey&lsid={none}&report_type=rep"),
    )
    .await;
    assert_eq!(
        empty.text,
        "No archives found for the given search criteria."
    );
}

fn names(node: &Node) -> Vec<&str> {
    node.children.iter().map(|c| c.name.as_str()).collect()
}

fn attr_names(node: &Node) -> Vec<&str> {
    node.attrs.iter().map(|(k, _)| k.as_str()).collect()
}

/// Element order of `rs-SupportSession.reconstructed.xml`, child by child (the fixture is not
/// read at test time: it lives outside the repository).
#[tokio::test]
async fn support_session_elements_come_in_the_fixture_order() {
    let (a, r) = appliance();
    let lsid = a.create_session(full_spec());
    a.end_session(&lsid);
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    assert_eq!(attr_names(&list), vec!["xmlns"]);
    let s = list.child("session").unwrap();
    assert_eq!(attr_names(s), vec!["lsid"]);
    assert_eq!(
        names(s),
        vec![
            "session_type",
            "lseq",
            "start_time",
            "end_time",
            "duration",
            "public_site",
            "external_key",
            "custom_attributes",
            "session_chat_view_url",
            "session_chat_download_url",
            "session_recording_view_url",
            "session_recording_download_url",
            "file_transfer_count",
            "file_move_count",
            "file_delete_count",
            "primary_customer",
            "primary_rep",
            "customer_list",
            "rep_list",
            "team_list",
            "session_details",
            "cust_survey_list",
            "rep_survey_list",
        ]
    );
    let customer = s.path(&["customer_list", "customer"]).unwrap();
    assert_eq!(
        names(customer),
        vec![
            "username",
            "public_ip",
            "private_ip",
            "hostname",
            "os",
            "primary_cust",
            "info"
        ]
    );
    assert_eq!(
        names(customer.child("info").unwrap()),
        vec!["name", "company", "company_code", "issue", "details"]
    );
    let rep = s.path(&["rep_list", "representative"]).unwrap();
    assert_eq!(attr_names(rep), vec!["gsnumber", "id"]);
    assert_eq!(
        names(rep),
        vec![
            "username",
            "display_name",
            "public_display_name",
            "private_display_name",
            "public_ip",
            "private_ip",
            "hostname",
            "os",
            "session_owner",
            "primary_rep",
            "seconds_involved",
            "invited",
        ]
    );
    assert_eq!(
        attr_names(s.child("primary_rep").unwrap()),
        vec!["gsnumber", "id"]
    );
    assert_eq!(
        attr_names(s.path(&["custom_attributes", "custom_attribute"]).unwrap()),
        vec!["display_name", "code_name"]
    );
    assert_eq!(
        names(events(s, "Chat Message")[0]),
        vec!["performed_by", "destination", "body"]
    );
    assert_eq!(
        attr_names(events(s, "Chat Message")[0].child("performed_by").unwrap()),
        vec!["type", "gsnumber"]
    );
    assert_eq!(
        names(events(s, "File Upload")[0]),
        vec!["performed_by", "destination", "filename", "filesize"]
    );
    assert_eq!(
        names(events(s, "Session Note Added")[0]),
        vec!["performed_by", "body"]
    );
    assert_eq!(
        names(events(s, "System Information Retrieved")[0]),
        vec!["performed_by", "system_information"]
    );
    assert_eq!(names(events(s, "Session Start")[0]), vec!["destination"]);
    assert_eq!(names(events(s, "Session End")[0]), vec!["performed_by"]);
    let event = &s.child("session_details").unwrap().children[0];
    assert_eq!(attr_names(event), vec!["timestamp", "event_type"]);
}

/// `rs-exit_survey_list.reconstructed.xml` and `rs-session_summary_list.reconstructed.xml`.
#[tokio::test]
async fn survey_and_listing_elements_come_in_the_fixture_order() {
    let (a, r) = appliance();
    let lsid = a.create_session(full_spec());
    a.end_session(&lsid);
    let list = report(
        &a,
        &r,
        &format!("generate_report=SupportCustExitSurvey&lsid={lsid}&report_type=rep"),
    )
    .await;
    let survey = list.child("exit_survey").unwrap();
    assert_eq!(attr_names(survey), vec!["lsid", "timestamp"]);
    assert_eq!(
        names(survey),
        vec![
            "submitted_by",
            "primary_customer",
            "primary_rep",
            "question_list"
        ]
    );
    let question = survey.path(&["question_list", "question"]).unwrap();
    assert_eq!(attr_names(question), vec!["id"]);
    assert_eq!(
        names(question),
        vec!["type", "name", "label", "report_header", "answer_list"]
    );
    let since = crate::appliance::unix_now() - 60;
    let listing = report(
        &a,
        &r,
        &format!("generate_report=SupportSessionListing&end_time={since}&duration=0"),
    )
    .await;
    assert_eq!(listing.attr("xmlns"), Some(REPORTING_NS));
    let summary = listing.child("session_summary").unwrap();
    assert_eq!(
        attr_names(summary),
        vec!["lsid", "external_key", "has_recording"]
    );
    assert!(summary.children.is_empty());
}

#[tokio::test]
async fn unicode_text_xml_can_carry_stays_in_body() {
    let (a, r) = appliance();
    let text = "Grüße 😀 — 日本語 \t\n <ok> & done";
    let lsid = a.create_session(
        SessionSpec::default()
            .chat(Party::CUSTOMER, text)
            .custom_attribute("größe", "Größe ✓", "💾"),
    );
    a.end_session(&lsid);
    let answer = api(
        &a,
        &r,
        &format!("/api/reporting?generate_report=SupportSession&lsid={lsid}"),
    )
    .await;
    let list = parse(&answer.body);
    let s = list.child("session").unwrap();
    let chat = events(s, "Chat Message")[0];
    assert!(chat.child("encoded_body").is_none());
    assert_eq!(chat.text_at(&["body"]), Some(text));
    let attr = s.path(&["custom_attributes", "custom_attribute"]).unwrap();
    assert_eq!(
        (attr.attr("display_name"), attr.text.as_str()),
        (Some("Größe ✓"), "💾")
    );
}
