//! Issue 15 end to end against the sandbox: tickets created for sessions that name none (exactly
//! once, also across a lost answer and a crash), their surveys, survey rules that solve a ticket
//! in the survey's own update, and closed tickets left alone.

mod common;

use common::*;
use middleware::store::Status;
use sandbox::{Customer, SessionSpec};

const CREATE: &str = r#"
unassociated_sessions = "create_ticket"
default_requester_email = "remote-support@example.com"
new_ticket_group_id = 4242
new_ticket_tags = ["remote_support"]
"#;

const SOLVE_RULE: &str = r#"
survey_rules = [
  { question = "Was your issue resolved?", answer = "Yes", status = "solved", tags = ["resolved_in_session"] },
]
"#;

fn unassociated_spec() -> SessionSpec {
    SessionSpec::default()
        .customer(Customer {
            issue: "VPN drops".into(),
            ..Customer::named("Ann Smith")
        })
        .custom_attribute("email", "E-mail", "ann@example.org")
        .customer_survey([("rating", "5"), ("comments", "Thanks a lot")])
        .rep_survey([("resolved", "Yes")])
}

fn creates(env: &Env) -> usize {
    env.sb
        .zendesk
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v2/tickets.json")
        .count()
}

async fn start(zendesk: &str) -> Env {
    Env::start(Setup {
        zendesk: zendesk.to_string(),
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn create_ticket_makes_one_ticket_with_the_report_and_the_surveys_follow_it() {
    let env = start(CREATE).await;
    let lsid = env.sb.appliance.create_session(unassociated_spec());
    env.sb.appliance.end_session(&lsid);
    env.delivered(3).await;
    env.app.drain().await;

    let tickets = env.sb.zendesk.tickets();
    assert_eq!(tickets.len(), 1, "exactly one ticket: {tickets:#?}");
    let t = &tickets[0];
    assert_eq!(t.subject, "Remote support: VPN drops (Ann Smith)");
    assert_eq!(t.group_id, Some(4242));
    assert!(
        t.tags.contains(&"remote_support".to_string()),
        "{:?}",
        t.tags
    );
    let users = env.sb.zendesk.users();
    assert_eq!(users.len(), 1);
    assert_eq!(
        (users[0].name.as_str(), users[0].email.as_str()),
        ("Ann Smith", "ann@example.org")
    );
    assert_eq!(t.requester_id, Some(users[0].id));

    let comments = &t.comments;
    assert_eq!(
        comments.len(),
        3,
        "report, then both surveys: {comments:#?}"
    );
    assert!(comments.iter().all(|c| !c.public), "every comment private");
    assert!(comments[0].body.contains(&marker(&lsid, END)));
    assert!(comments[0].html_body.contains("VPN drops") && comments[0].html_body.contains(&lsid));
    assert!(comments
        .iter()
        .any(|c| c.body.contains(&marker(&lsid, CUST_SURVEY)) && c.body.contains("Thanks a lot")));
    assert!(comments
        .iter()
        .any(|c| c.body.contains(&marker(&lsid, REP_SURVEY))));
    assert_eq!(creates(&env), 1);

    let events = env.app.events().await;
    assert!(
        events
            .iter()
            .all(|e| e.status == Status::Done && e.ticket_id == Some(t.id as i64)),
        "{events:#?}"
    );
    let end = events.iter().find(|e| e.event_type == END).unwrap();
    assert_eq!(
        env.app.store().created_by_event(end.id).await.unwrap(),
        Some(t.id)
    );
}

#[tokio::test]
async fn a_lost_create_answer_and_a_crash_still_make_one_ticket() {
    let mut env = start(CREATE).await;
    let lsid = env
        .sb
        .appliance
        .create_session(SessionSpec::default().customer(Customer::named("Bo")));
    // Zendesk creates the ticket, but the middleware never learns it: the answer is lost.
    env.sb.zendesk.lose_next_create_answers(1);
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    let event = env.app.events().await.remove(0);
    assert!(middleware::worker::process_next(&env.app.shared)
        .await
        .unwrap());
    assert_eq!(env.sb.zendesk.tickets().len(), 1, "the creation happened");
    let after = env.app.store().event(event.id).await.unwrap().unwrap();
    assert_eq!(after.status, Status::Retry, "{after:?}");
    assert_eq!(
        env.app
            .store()
            .created_ticket(APPLIANCE_ID, &lsid)
            .await
            .unwrap(),
        None,
        "the outcome was never recorded"
    );

    // The process dies; a new one takes the event over and asks again with the same key.
    env.restart().await;
    env.app.drain().await;
    let tickets = env.sb.zendesk.tickets();
    assert_eq!(tickets.len(), 1, "no second ticket: {tickets:#?}");
    assert_eq!(creates(&env), 2, "the retry asked Zendesk again");
    let ours = tickets[0]
        .comments
        .iter()
        .filter(|c| c.body.contains(&marker(&lsid, END)))
        .count();
    assert_eq!(ours, 1, "the report once");
    let done = env.app.store().event(event.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.ticket_id),
        (Status::Done, Some(tickets[0].id as i64))
    );
    // The default requester: the session carried no e-mail.
    assert_eq!(
        env.sb.zendesk.users()[0].email,
        "remote-support@example.com"
    );
}

#[tokio::test]
async fn record_mode_creates_nothing() {
    let env = start("").await;
    let lsid = env.sb.appliance.create_session(unassociated_spec());
    env.sb.appliance.end_session(&lsid);
    env.delivered(3).await;
    env.app.drain().await;
    assert!(env.sb.zendesk.tickets().is_empty());
    assert_eq!(creates(&env), 0);
    let statuses: Vec<_> = env.app.events().await.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [Status::Unassociated; 3]);
}

#[tokio::test]
async fn a_matching_survey_answer_solves_the_ticket_in_the_survey_update() {
    let env = start(SOLVE_RULE).await;
    let yes = env.sb.zendesk.create_ticket("yes");
    let no = env.sb.zendesk.create_ticket("no");
    for (ticket, answer) in [(yes, "Yes"), (no, "No")] {
        let lsid = env.sb.appliance.create_session(
            SessionSpec::default()
                .external_key(ticket.to_string())
                .customer_survey([("Was your issue resolved?", answer)]),
        );
        env.sb.appliance.end_session(&lsid);
    }
    env.delivered(4).await;
    env.app.drain().await;

    let solved = env.sb.zendesk.ticket(yes).unwrap();
    assert_eq!(solved.status, "solved");
    assert!(solved.tags.contains(&"resolved_in_session".to_string()));
    let survey = solved.comments.last().unwrap();
    assert!(
        survey
            .body
            .contains("status set to solved; tags added: resolved_in_session"),
        "the comment says what the rule did: {}",
        survey.body
    );
    let open = env.sb.zendesk.ticket(no).unwrap();
    assert_eq!(open.status, "open");
    assert!(open.tags.is_empty());
    assert!(!open.comments.last().unwrap().body.contains("Survey rule"));
    // One update per comment: the status and tags travelled with the survey comment.
    assert_eq!(env.comment_puts(), 4);
    let puts_to_yes: Vec<_> = env
        .sb
        .zendesk
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with(&format!("/api/v2/tickets/{yes}")))
        .collect();
    assert_eq!(puts_to_yes.len(), 2, "{puts_to_yes:#?}");
    let body = puts_to_yes[1].body.as_deref().unwrap_or("");
    assert!(
        body.contains("\"status\":\"solved\"") && body.contains("additional_tags"),
        "{body}"
    );
}

#[tokio::test]
async fn a_created_ticket_is_solved_by_its_survey() {
    let env = start(&format!("{CREATE}{SOLVE_RULE}")).await;
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default().customer_survey([("Was your issue resolved?", "yes ")]),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(2).await;
    env.app.drain().await;
    let tickets = env.sb.zendesk.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].status, "solved");
    assert_eq!(tickets[0].comments.len(), 2);
}

#[tokio::test]
async fn a_closed_ticket_is_left_alone_with_a_note() {
    let env = start(SOLVE_RULE).await;
    let ticket = env.sb.zendesk.create_ticket("old");
    env.sb.zendesk.set_ticket_status(ticket, "closed");
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .customer_survey([("Was your issue resolved?", "Yes")]),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(2).await;
    env.app.drain().await;

    let t = env.sb.zendesk.ticket(ticket).unwrap();
    assert_eq!(t.status, "closed");
    assert!(t.comments.is_empty() && t.tags.is_empty());
    let events = env.app.events().await;
    for e in &events {
        assert_eq!(e.status, Status::Skipped, "{e:?}");
        let note = e.last_error.as_deref().unwrap_or("");
        assert!(
            note.contains(&format!("ticket #{ticket} is closed")) && note.contains("not posted"),
            "{note}"
        );
        assert_eq!(e.ticket_id, Some(ticket as i64));
    }
    // The session comment was refused once; the survey, whose rule read the status, sent nothing.
    assert_eq!(env.comment_puts(), 1);
}

#[tokio::test]
async fn the_admin_event_page_links_the_created_ticket() {
    use middleware::admin::{router, AdminState};
    use middleware::secret::Secret;
    const PASSWORD: &str = "it-admin-pw-15";

    let env = start(CREATE).await;
    let lsid = env.sb.appliance.create_session(SessionSpec::default());
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    let ticket = env.sb.zendesk.tickets()[0].id;
    let event = env.app.events().await.remove(0);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let admin = router(AdminState::new(
        env.app.shared.clone(),
        Secret::new(PASSWORD),
    ));
    tokio::spawn(async move { axum::serve(listener, admin).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(format!("http://{addr}/login"))
        .header("origin", format!("http://{addr}"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = http
        .get(format!("http://{addr}/events/{}", event.id))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = format!(
        "This event created ticket <a href=\"{}/agent/tickets/{ticket}\"",
        env.sb.zendesk.base_url()
    );
    assert!(page.contains(&link), "{page}");
}

#[tokio::test]
async fn killed_while_creating_the_retry_gets_the_same_ticket() {
    let mut env = start(CREATE).await;
    let lsid = env.sb.appliance.create_session(SessionSpec::default());
    // Zendesk creates the ticket; the middleware is killed before the answer arrives.
    env.sb.zendesk.hang_next_create_answers(1);
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    let shared = env.app.shared.clone();
    let worker = tokio::spawn(async move { middleware::worker::process_next(&shared).await });
    let zendesk = env.sb.zendesk.clone();
    wait_until(
        "the ticket exists",
        std::time::Duration::from_secs(10),
        || {
            let n = zendesk.tickets().len();
            async move { n == 1 }
        },
    )
    .await;
    worker.abort();
    let _ = worker.await;
    let event = env.app.events().await.remove(0);
    assert_eq!(event.status, Status::Processing, "no outcome recorded");

    env.restart().await;
    env.app.drain().await;
    let tickets = env.sb.zendesk.tickets();
    assert_eq!(tickets.len(), 1, "no second ticket: {tickets:#?}");
    // (The killed call never finished, so the sandbox recorded only the retry.)
    assert_eq!(creates(&env), 1);
    let done = env.app.store().event(event.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.ticket_id),
        (Status::Done, Some(tickets[0].id as i64))
    );
}

/// A session without a ticket whose report is far over one comment (1,500 chat lines).
fn huge_unassociated() -> SessionSpec {
    SessionSpec::default()
        .customer(Customer::named("Cy"))
        .with_load(sandbox::Load {
            system_info_retrievals: 3,
            chat_lines: 1500,
        })
}

const BUDGET: usize = 60_000;

fn puts_to(env: &Env, ticket: u64) -> usize {
    env.sb
        .zendesk
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path == format!("/api/v2/tickets/{ticket}.json"))
        .count()
}

fn uploads(env: &Env) -> usize {
    env.sb
        .zendesk
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v2/uploads.json")
        .count()
}

#[tokio::test]
async fn a_huge_report_creates_its_ticket_with_the_full_report_attached_once_across_a_lost_answer()
{
    let mut env = start(CREATE).await;
    let lsid = env.sb.appliance.create_session(huge_unassociated());
    // The ticket is created with the attachment, but the answer is lost; the process dies.
    env.sb.zendesk.lose_next_create_answers(1);
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    assert!(middleware::worker::process_next(&env.app.shared)
        .await
        .unwrap());
    assert_eq!(env.sb.zendesk.tickets().len(), 1, "the creation happened");
    env.restart().await;
    env.app.drain().await;

    let tickets = env.sb.zendesk.tickets();
    assert_eq!(tickets.len(), 1, "no second ticket: {tickets:#?}");
    let t = &tickets[0];
    assert_eq!(t.comments.len(), 1, "the report is the first comment only");
    let c = &t.comments[0];
    assert!(!c.public);
    assert!(
        c.html_body.chars().count() <= BUDGET,
        "{} characters",
        c.html_body.chars().count()
    );
    let records = app_core::marker::find_all(&c.body);
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].lsid.as_str(), records[0].part),
        (lsid.as_str(), None)
    );
    assert_eq!(c.attachments.len(), 1, "{:?}", c.attachments);
    assert_eq!(
        c.attachments[0].file_name,
        format!("beyondtrust-session-{lsid}.html")
    );
    // The retry sent the same body (the recorded upload token) and got the first ticket back.
    assert_eq!(
        (creates(&env), uploads(&env), puts_to(&env, t.id)),
        (2, 1, 0)
    );
    let created: Vec<_> = env
        .sb
        .zendesk
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v2/tickets.json")
        .collect();
    assert_eq!(created[0].body, created[1].body);
    assert_eq!(created[1].status, 201);
    let events = env.app.events().await;
    assert_eq!(
        (events[0].status, events[0].ticket_id),
        (Status::Done, Some(t.id as i64))
    );
}

/// Checks that `t` holds the whole report in `n` parts, each once and within budget.
fn assert_parts(t: &sandbox::Ticket, lsid: &str) -> usize {
    let n = t.comments.len();
    assert!(n >= 3, "{n} comments");
    let mut all = String::new();
    for (i, c) in t.comments.iter().enumerate() {
        assert!(!c.public);
        let size = c.html_body.chars().count();
        assert!(size <= BUDGET, "part {} has {size} characters", i + 1);
        let records = app_core::marker::find_all(&c.body);
        assert_eq!(records.len(), 1, "one record per part");
        assert_eq!(records[0].lsid, lsid);
        assert_eq!(records[0].part, Some((i as u32 + 1, n as u32)));
        all.push_str(&c.body);
    }
    for i in 1..=1500 {
        assert!(
            all.contains(&format!("chat line {i:04}:")),
            "line {i} missing"
        );
    }
    n
}

#[tokio::test]
async fn a_refused_upload_creates_the_ticket_with_part_one_and_adds_the_other_parts() {
    let env = start(CREATE).await;
    env.sb.zendesk.set_ticket_update_limit(1000);
    env.sb.zendesk.refuse_uploads(Some("file type not allowed"));
    let lsid = env.sb.appliance.create_session(huge_unassociated());
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;

    let tickets = env.sb.zendesk.tickets();
    assert_eq!(tickets.len(), 1);
    let n = assert_parts(&tickets[0], &lsid);
    assert_eq!(
        (creates(&env), uploads(&env), puts_to(&env, tickets[0].id)),
        (1, 1, n - 1),
        "part 1 in the creation, one update per other part"
    );
    let events = env.app.events().await;
    assert_eq!(events[0].status, Status::Done);
}

#[tokio::test]
async fn parts_of_a_created_ticket_are_each_posted_once_across_a_lost_create_answer() {
    let mut env = start(CREATE).await;
    env.sb.zendesk.set_ticket_update_limit(1000);
    env.sb.zendesk.refuse_uploads(Some("file type not allowed"));
    let lsid = env.sb.appliance.create_session(huge_unassociated());
    env.sb.zendesk.lose_next_create_answers(1);
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    assert!(middleware::worker::process_next(&env.app.shared)
        .await
        .unwrap());
    // Zendesk now accepts uploads: the retry must still send the body of the first attempt.
    env.sb.zendesk.refuse_uploads(None);
    env.restart().await;
    env.app.drain().await;

    let tickets = env.sb.zendesk.tickets();
    assert_eq!(tickets.len(), 1, "no second ticket");
    let n = assert_parts(&tickets[0], &lsid);
    assert_eq!(
        (creates(&env), uploads(&env), puts_to(&env, tickets[0].id)),
        (2, 1, n - 1)
    );
}
