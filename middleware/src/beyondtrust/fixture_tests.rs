//! Parsing every captured or reconstructed appliance answer in `tests/fixtures/`.

use super::model::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $name
        ))
    };
}

#[test]
fn rs_support_session_reconstructed() {
    let sessions = parse_session_list(fixture!("rs-SupportSession.reconstructed.xml")).unwrap();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!(s.lsid, "c69a8e10bea9428f816cfababe9815fe");
    assert_eq!(s.external_key.as_deref(), Some("12345"));
    assert_eq!(s.start_time.as_ref().unwrap().unix, Some(1_700_000_000));
    assert_eq!(s.end_time.as_ref().unwrap().unix, Some(1_700_000_900));
    assert_eq!(s.duration_secs(), Some(900));
    assert_eq!(s.public_site.as_deref(), Some("Default"));
    assert_eq!(s.custom_attributes[0].code_name, "zendesk_ticket");
    assert_eq!(s.custom_attributes[0].value, "12345");
    assert!(s
        .chat_view_url
        .as_deref()
        .unwrap()
        .contains("dl_action=chat&view=1"));
    assert!(s.recording_download_url.is_some());
    let c = &s.customers[0];
    assert_eq!(c.name.as_deref(), Some("Jane Customer"));
    assert_eq!(c.company.as_deref(), Some("Example Corp"));
    assert_eq!(c.issue.as_deref(), Some("General Support"));
    assert_eq!(c.details.as_deref(), Some("Printer does not work"));
    assert_eq!(c.hostname.as_deref(), Some("JANE-PC"));
    assert!(c.primary);
    let r = &s.representatives[0];
    assert_eq!(r.display_name.as_deref(), Some("John Rep"));
    assert_eq!(r.seconds_involved, Some(900));
    assert!(r.session_owner && r.primary);
    let types: Vec<_> = s.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "Session Start",
            "Conference Member Added",
            "Chat Message",
            "System Information Retrieved",
            "File Upload",
            "Session Note Added",
            "Session End"
        ]
    );
    let chat = &s.events[2];
    assert_eq!(chat.body.as_deref(), Some("Hello, I will take a look now."));
    assert_eq!(chat.performed_by.as_ref().unwrap().kind, "representative");
    assert_eq!(chat.destination.as_ref().unwrap().name, "Jane Customer");
    let sys = &s.events[3].system_information[0];
    assert_eq!(sys.name, "Overview");
    assert_eq!(
        sys.columns,
        vec![
            ("OS".into(), "Operating System".into()),
            ("Memory".into(), "Memory".into())
        ]
    );
    assert_eq!(sys.rows[0][1], ("Memory".into(), "16 GB".into()));
    let file = &s.events[4];
    assert_eq!(
        file.filename.as_deref(),
        Some(r"C:\Users\jcustomer\Desktop\driver.zip")
    );
    assert_eq!(file.filesize, Some(1_048_576));
    assert_eq!(
        s.events[5].body.as_deref(),
        Some("Reinstalled printer driver.")
    );
    assert!(s.has_customer_survey && s.has_rep_survey);
}

#[test]
fn pra_real_session_list() {
    let sessions = parse_session_list(fixture!("pra-session_list.real.xml")).unwrap();
    let s = &sessions[0];
    assert_eq!(s.lsid, "e9e99aeb9ad54fb381634498502c5a1b");
    assert_eq!(s.external_key, None, "empty external_key is absent");
    assert_eq!(s.duration.as_deref(), Some("00:15:02"));
    assert_eq!(s.duration_secs(), Some(902));
    assert_eq!(s.file_transfer_count, Some(2));
    assert_eq!(s.file_delete_count, Some(1));
    assert_eq!(
        s.customers[0].public_ip.as_deref(),
        Some("4.231.237.19:61606")
    );
    assert_eq!(
        s.representatives[0].public_ip.as_deref(),
        Some("[2a01:e34:ec57:b230:f188:56c5:7089:d987]:56722")
    );
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.events[1].event_type, "Conference Owner Changed");
    assert_eq!(
        s.events[1].data,
        vec![("owner".to_string(), "Pre-start Conference".to_string())]
    );
    assert_eq!(s.events[1].destination.as_ref().unwrap().kind, "system");
    assert!(!s.has_customer_survey);
}

#[test]
fn pra_mock_with_sysinfo_files_and_encoded_body() {
    let sessions = parse_session_list(fixture!("pra-session_list.mock-with-sysinfo.xml")).unwrap();
    let s = &sessions[0];
    assert_eq!(s.lsid, "", "this mock has no lsid attribute");
    assert_eq!(s.custom_attributes.len(), 2);
    assert_eq!(
        s.shell_recordings[0].view_url.as_deref(),
        Some("https://example.com/shell_view/12345")
    );
    let e = &s.events[0];
    assert_eq!(e.timestamp, "2024-04-04T13:30:00Z");
    assert_eq!(e.unix, None);
    assert_eq!(
        e.body.as_deref(),
        Some("Session started by Admin"),
        "decoded from encoded_body"
    );
    assert_eq!(
        e.files,
        vec![FileInfo {
            filename: "logfile.txt".into(),
            filesize: Some(1024)
        }]
    );
    let cat = &e.system_information[0];
    assert_eq!(cat.name, "OS Information");
    assert_eq!(cat.rows.len(), 2);
    assert_eq!(cat.rows[1][0].1, "remote-host2");
}

#[test]
fn encoded_body_wins_over_body() {
    let xml = r#"<session_list><session lsid="x"><session_details>
        <event timestamp="1" event_type="Chat Message"><body>lossy ?</body><encoded_body>bMOkdXQg4piD</encoded_body></event>
        </session_details></session></session_list>"#;
    let s = parse_session_list(xml).unwrap();
    assert_eq!(s[0].events[0].body.as_deref(), Some("läut ☃"));
}

#[test]
fn missing_end_time_is_visible() {
    let xml = r#"<ns:session_list xmlns:ns="http://www.bomgar.com/namespaces/API/reporting"><ns:session lsid="x">
        <ns:start_time timestamp="5">t</ns:start_time></ns:session></ns:session_list>"#;
    let s = parse_session_list(xml).unwrap();
    assert!(s[0].start_time.is_some());
    assert!(s[0].end_time.is_none());
}

#[test]
fn summary_lists() {
    let real = parse_session_summary_list(fixture!("pra-session_summary_list.real.xml")).unwrap();
    assert_eq!(real.len(), 2);
    assert_eq!(real[1].lsid, "219ca41dc71940a5a69687b49736d97b");
    assert_eq!(real[0].external_key, None);
    let rs =
        parse_session_summary_list(fixture!("rs-session_summary_list.reconstructed.xml")).unwrap();
    assert_eq!(rs[0].external_key.as_deref(), Some("12345"));
    assert!(!rs[0].has_recording);
}

#[test]
fn exit_surveys() {
    let surveys =
        parse_exit_survey_list(fixture!("rs-exit_survey_list.reconstructed.xml")).unwrap();
    let s = &surveys[0];
    assert_eq!(s.lsid, "c69a8e10bea9428f816cfababe9815fe");
    assert_eq!(s.timestamp, Some(1_700_000_950));
    assert_eq!(s.submitted_by.as_ref().unwrap().kind, "cust");
    assert_eq!(s.questions.len(), 2);
    assert_eq!(s.questions[0].report_header.as_deref(), Some("Rating"));
    assert_eq!(s.questions[0].answers, ["5"]);
    assert_eq!(s.questions[1].answers, ["Great help, thanks!"]);
}

#[test]
fn api_info() {
    let info = parse_api_info(fixture!("rs-api_information.reconstructed.xml")).unwrap();
    assert_eq!(info.api_version.as_deref(), Some("1.24.1"));
    assert_eq!(info.timestamp, Some(1_700_000_000));
    assert_eq!(info.permission("perm_reporting_support"), Some("1"));
    assert_eq!(info.permission("perm_command"), Some("full_access"));
}

#[test]
fn error_roots_in_every_namespace() {
    for (xml, msg) in [
        (
            fixture!("bomgar-reporting-error.real.xml"),
            "No archives found for the given search criteria.",
        ),
        (fixture!("rs-error.reconstructed.xml"), "Invalid queue_id."),
    ] {
        match parse_session_list(xml) {
            Err(ReportError::Api(m)) => assert_eq!(m, msg),
            other => panic!("expected Api error, got {other:?}"),
        }
        assert!(matches!(parse_api_info(xml), Err(ReportError::Api(_))));
    }
}

#[test]
fn wrong_root_is_an_error() {
    let err = parse_session_list(fixture!("rs-session_key.reconstructed.xml")).unwrap_err();
    assert!(
        matches!(err, ReportError::UnexpectedRoot { ref found, .. } if found == "session_key"),
        "{err:?}"
    );
}
