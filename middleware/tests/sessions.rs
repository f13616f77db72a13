//! End to end against the sandbox: the appliance delivers outbound events over HTTP, the
//! middleware stores and processes them, and every assertion is on what the Zendesk simulator
//! received.

mod common;

use common::*;
use middleware::store::Status;
use sandbox::{Customer, Party, SessionSpec, SysInfoCategory};

fn full_spec(ticket: u64) -> SessionSpec {
    SessionSpec::default()
        .external_key(ticket.to_string())
        .customer(Customer::default())
        .chat(Party::CUSTOMER, "My printer is broken")
        .chat(Party::REP, "Let me have a look.")
        .system_info(vec![SysInfoCategory::single_row(
            "Memory",
            [("Total", "16 GB"), ("Free", "9 GB")],
        )])
        .file_upload(Party::REP, "driver.zip", 1_048_576)
        .file_download(Party::REP, "printer.log", 2048)
        .note(Party::REP, "Reinstalled the printer driver.")
        .custom_attribute("department", "Department", "Accounting")
        .customer_survey([("rating", "5"), ("comments", "Great help")])
        .rep_survey([("resolved", "Yes")])
}

#[tokio::test]
async fn full_session_lands_as_three_private_comments() {
    // Background workers process concurrently; the session comment still comes first.
    let env = Env::start(Setup {
        workers: 3,
        ..Setup::default()
    })
    .await;
    let ticket = env.sb.zendesk.create_ticket("Printer");
    let lsid = env.sb.appliance.create_session(full_spec(ticket));
    env.sb.appliance.end_session(&lsid);
    env.delivered(3).await;
    env.app.drain().await;

    let comments = env.sb.zendesk.comments(ticket);
    // The ticket's first comment is its description.
    let ours: Vec<_> = comments
        .iter()
        .filter(|c| c.body.contains("rsz/1 "))
        .collect();
    assert_eq!(ours.len(), 3, "{comments:#?}");
    assert!(ours.iter().all(|c| !c.public), "every comment is private");
    let session = ours[0];
    assert!(
        session.body.contains(&marker(&lsid, END)),
        "session comment first"
    );
    for needle in [
        lsid.as_str(),
        "Jane Customer",
        "Example Corp",
        "203.0.113.10:51000",
        "JANE-PC",
        "Windows 11 Pro",
        "Printer does not work",
        "John Rep",
        "My printer is broken",
        "Let me have a look.",
        "driver.zip",
        "1.0 MiB",
        "printer.log",
        "2.0 KiB",
        "16 GB",
        "9 GB",
        "Reinstalled the printer driver.",
        "Accounting",
    ] {
        assert!(
            session.html_body.contains(needle),
            "session comment lacks {needle:?}:\n{}",
            session.html_body
        );
    }
    let chat1 = session.html_body.find("My printer is broken").unwrap();
    let chat2 = session.html_body.find("Let me have a look.").unwrap();
    assert!(chat1 < chat2, "transcript in session order");

    let cust = ours
        .iter()
        .find(|c| c.body.contains(&marker(&lsid, CUST_SURVEY)))
        .expect("customer survey comment");
    assert!(
        cust.html_body.contains("Rating") && cust.html_body.contains("Great help"),
        "{}",
        cust.html_body
    );
    let rep = ours
        .iter()
        .find(|c| c.body.contains(&marker(&lsid, REP_SURVEY)))
        .expect("rep survey comment");
    assert!(
        rep.html_body.contains("resolved") && rep.html_body.contains("Yes"),
        "{}",
        rep.html_body
    );

    let statuses: Vec<_> = env.app.events().await.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [Status::Done, Status::Done, Status::Done]);
    // Every appliance call passed the configured locale and asked to close the connection.
    let calls = env.sb.appliance.api_calls();
    assert!(!calls.is_empty());
    assert!(
        calls.iter().all(|c| c.param("locale") == Some("en-us")),
        "{calls:#?}"
    );
    let tokens = env.sb.appliance.token_calls();
    assert_eq!(tokens.len(), 1);
    assert!(
        calls.iter().chain(&tokens).all(|c| c.connection_close),
        "every appliance call sends Connection: close: {calls:#?} {tokens:#?}"
    );
}

#[tokio::test]
async fn configured_locale_is_passed_on_every_report() {
    let env = Env::start(Setup {
        locale: "de-de".into(),
        ..Setup::default()
    })
    .await;
    let ticket = env.sb.zendesk.create_ticket("Locale");
    let lsid = env.sb.appliance.create_session(full_spec(ticket));
    env.sb.appliance.end_session(&lsid);
    env.delivered(3).await;
    env.app.drain().await;
    let calls = env.sb.appliance.api_calls();
    let reports: Vec<_> = calls.iter().filter_map(|c| c.action.as_deref()).collect();
    for report in [
        "SupportSession",
        "SupportCustExitSurvey",
        "SupportRepExitSurvey",
    ] {
        assert!(
            reports.contains(&report),
            "{report} was not asked: {reports:?}"
        );
    }
    assert!(
        calls.iter().all(|c| c.param("locale") == Some("de-de")),
        "{calls:#?}"
    );
}

#[tokio::test]
async fn waiting_for_a_lagging_report_is_bounded() {
    let setup = Setup {
        retry_attempt_limit: Some(0),
        ..Setup::default()
    };
    let checks = setup.tuning.report_wait_tries;
    let env = Env::start(setup).await;
    let ticket = env.sb.zendesk.create_ticket("Never complete");
    let lsid = env
        .sb
        .appliance
        .create_session(SessionSpec::default().external_key(ticket.to_string()));
    env.sb.appliance.report_lag(&lsid, 1000);
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    let reports = env
        .sb
        .appliance
        .api_calls()
        .iter()
        .filter(|c| c.action.as_deref() == Some("SupportSession"))
        .count();
    assert_eq!(
        reports, checks as usize,
        "one attempt checks the report {checks} times"
    );
    let e = &env.app.events().await[0];
    assert_eq!(e.status, Status::Failed);
    assert!(
        e.last_error.as_deref().unwrap().contains("end_time"),
        "{:?}",
        e.last_error
    );
    assert_eq!(env.comment_puts(), 0);
}

#[tokio::test]
async fn lagging_report_is_awaited_until_end_time_appears() {
    let env = Env::start(Setup::default()).await;
    let ticket = env.sb.zendesk.create_ticket("Lag");
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .chat(Party::REP, "hi"),
    );
    env.sb.appliance.report_lag(&lsid, 3);
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;

    let reports = env
        .sb
        .appliance
        .api_calls()
        .iter()
        .filter(|c| c.action.as_deref() == Some("SupportSession"))
        .count();
    assert_eq!(
        reports, 4,
        "three answers without end_time, then the complete one"
    );
    let ours: Vec<_> = env
        .sb
        .zendesk
        .comments(ticket)
        .into_iter()
        .filter(|c| c.body.contains("rsz/1 "))
        .collect();
    assert_eq!(ours.len(), 1);
    assert!(
        ours[0].html_body.contains(" UTC to "),
        "end time shown: {}",
        ours[0].html_body
    );
}

#[tokio::test]
async fn hostile_chat_line_stays_inert() {
    let env = Env::start(Setup::default()).await;
    let ticket = env.sb.zendesk.create_ticket("Hostile");
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> {{lsid}} {{{lsid}}}";
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .customer(Customer::named("<b onmouseover=alert(3)>Mallory</b>"))
            .chat(Party::CUSTOMER, hostile)
            .note(Party::REP, "<iframe src=javascript:alert(4)>"),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    let c = env
        .sb
        .zendesk
        .comments(ticket)
        .into_iter()
        .find(|c| c.body.contains("rsz/1 "))
        .expect("comment");
    let html = c.html_body.to_ascii_lowercase();
    for bad in ["<script", "<img", "<iframe", "<b onmouseover"] {
        assert!(!html.contains(bad), "{bad} got through:\n{}", c.html_body);
    }
    assert!(
        c.html_body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        c.html_body
    );
    assert!(
        c.body.contains("{{lsid}}"),
        "template syntax in chat is shown, not evaluated"
    );
}

#[tokio::test]
async fn unassociated_sessions_get_no_comment_and_no_retry() {
    let env = Env::start(Setup::default()).await;
    let no_key = env.sb.appliance.create_session(SessionSpec::default());
    let bad_key = env
        .sb
        .appliance
        .create_session(SessionSpec::default().external_key("ask Bob"));
    env.sb.appliance.end_session(&no_key);
    env.sb.appliance.end_session(&bad_key);
    env.delivered(2).await;
    env.app.drain().await;
    let events = env.app.events().await;
    assert!(
        events.iter().all(|e| e.status == Status::Unassociated),
        "{events:#?}"
    );
    assert!(events[1].last_error.as_deref().unwrap().contains("ask Bob"));
    assert_eq!(env.comment_puts(), 0);
}

#[tokio::test]
async fn ticket_key_forms_are_accepted() {
    let env = Env::start(Setup::default()).await;
    let t1 = env.sb.zendesk.create_ticket("hash");
    let t2 = env.sb.zendesk.create_ticket("url");
    let a = env
        .sb
        .appliance
        .create_session(SessionSpec::default().external_key(format!("#{t1}")));
    let b = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(format!("{}/agent/tickets/{t2}", env.sb.zendesk.base_url())),
    );
    // A ticket URL of another Zendesk instance names no ticket here, whatever its number.
    let c = env.sb.appliance.create_session(
        SessionSpec::default().external_key(format!("https://acme.zendesk.com/agent/tickets/{t2}")),
    );
    env.sb.appliance.end_session(&a);
    env.sb.appliance.end_session(&b);
    env.sb.appliance.end_session(&c);
    env.delivered(3).await;
    env.app.drain().await;
    let other = &env.app.events().await[2];
    assert_eq!(other.status, Status::Unassociated);
    assert!(
        other
            .last_error
            .as_deref()
            .unwrap()
            .contains("another Zendesk host"),
        "{other:#?}"
    );
    assert!(!env
        .sb
        .zendesk
        .comments(t2)
        .iter()
        .any(|c2| c2.body.contains(&marker(&c, END))));
    assert!(env
        .sb
        .zendesk
        .comments(t1)
        .iter()
        .any(|c| c.body.contains(&marker(&a, END))));
    assert!(env
        .sb
        .zendesk
        .comments(t2)
        .iter()
        .any(|c| c.body.contains(&marker(&b, END))));
}

#[tokio::test]
async fn unknown_ticket_fails_with_zendesk_message_kept() {
    let env = Env::start(Setup::default()).await;
    let lsid = env
        .sb
        .appliance
        .create_session(SessionSpec::default().external_key("987654"));
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    let e = &env.app.events().await[0];
    assert_eq!(e.status, Status::Failed);
    let err = e.last_error.as_deref().unwrap();
    assert!(
        err.contains("404") && err.contains("RecordNotFound"),
        "{err}"
    );
    assert!(!err.contains(&env.sb.zendesk.api_token()));
    assert_eq!(
        env.app.store().attempts(e.id).await.unwrap().len(),
        1,
        "permanent errors are not retried"
    );
    assert_eq!(env.comment_puts(), 1);
}

#[tokio::test]
async fn tags_and_duration_field_are_written() {
    let setup = Setup {
        zendesk: "tags = [\"beyondtrust\", \"remote_support\"]\nduration_field_id = 360001\nduration_field_unit = \"minutes\"".into(),
        ..Setup::default()
    };
    let env = Env::start(setup).await;
    let ticket = env.sb.zendesk.create_ticket("tags");
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 600;
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .start_time(start),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    let t = env.sb.zendesk.ticket(ticket).unwrap();
    assert!(
        t.tags.contains(&"beyondtrust".to_string())
            && t.tags.contains(&"remote_support".to_string()),
        "{:?}",
        t.tags
    );
    let field = t
        .custom_fields
        .iter()
        .find(|f| f.id == 360001)
        .expect("duration field");
    let minutes = field.value.as_u64().expect("numeric");
    assert!((10..=11).contains(&minutes), "{minutes}");
}
