//! Reports that fit Zendesk (issue 10): comment budget, attached full report, parts when the
//! upload is refused, one ticket update per comment, 503 + Retry-After, the record lookup over
//! pages and after a late-applied update. Every assertion is on what the Zendesk simulator got.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use middleware::store::Status;
use middleware::zendesk::{RateLimiter, ZendeskClient};
use sandbox::{Load, SessionSpec};

const BUDGET: usize = 60_000;

fn huge(ticket: u64) -> SessionSpec {
    SessionSpec::default()
        .external_key(ticket.to_string())
        .with_load(Load {
            system_info_retrievals: 3,
            chat_lines: 1500,
        })
}

fn tags_and_duration() -> String {
    "tags = [\"beyondtrust\", \"remote_support\"]\nduration_field_id = 360001\nduration_field_unit = \"seconds\"".into()
}

/// Calls the Zendesk simulator received for `ticket` (and uploads), by method and path kind.
struct Calls {
    puts: usize,
    gets: usize,
    uploads: usize,
    tag_calls: usize,
}

fn calls(env: &Env, ticket: u64) -> Calls {
    let reqs = env.sb.zendesk.requests();
    let on_ticket =
        |r: &&sandbox::RecordedCall| r.path.starts_with(&format!("/api/v2/tickets/{ticket}"));
    Calls {
        puts: reqs
            .iter()
            .filter(on_ticket)
            .filter(|r| r.method == "PUT" && r.path == format!("/api/v2/tickets/{ticket}.json"))
            .count(),
        gets: reqs
            .iter()
            .filter(on_ticket)
            .filter(|r| r.method == "GET")
            .count(),
        uploads: reqs
            .iter()
            .filter(|r| r.path == "/api/v2/uploads.json")
            .count(),
        tag_calls: reqs
            .iter()
            .filter(|r| r.path.ends_with("/tags.json"))
            .count(),
    }
}

fn client(env: &Env) -> ZendeskClient {
    let cfg = &env.app.shared.config.configurations[0];
    ZendeskClient::new(
        &cfg.zendesk,
        Arc::new(RateLimiter::new(100_000)),
        Duration::from_secs(5),
    )
    .unwrap()
}

fn ours(env: &Env, ticket: u64) -> Vec<sandbox::Comment> {
    env.sb
        .zendesk
        .comments(ticket)
        .into_iter()
        .filter(|c| c.body.contains("rsz/1 "))
        .collect()
}

#[tokio::test]
async fn a_huge_session_is_one_comment_within_budget_plus_the_full_report_attached() {
    let env = Env::start(Setup {
        zendesk: tags_and_duration(),
        ..Setup::default()
    })
    .await;
    let ticket = env.sb.zendesk.create_ticket("Huge");
    // The ticket's own tags must survive ours being added.
    client(&env)
        .add_tags(ticket, &["vip".to_string()])
        .await
        .unwrap();
    let lsid = env.sb.appliance.create_session(huge(ticket));
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    let before = calls(&env, ticket);
    env.app.drain().await;

    let comments = ours(&env, ticket);
    assert_eq!(comments.len(), 1, "one comment");
    let c = &comments[0];
    assert!(!c.public);
    let size = c.html_body.chars().count();
    assert!(size <= BUDGET, "comment of {size} characters");
    assert!(c.body.contains(&marker(&lsid, END)));
    assert!(
        c.html_body.contains("chat line 1500"),
        "the latest line is in the comment"
    );
    assert!(c
        .html_body
        .contains(&format!("beyondtrust-session-{lsid}.html")));
    assert!(c.html_body.contains("Disk Drives") && c.html_body.contains("Memory"));
    assert!(
        !c.html_body.contains("Installed Programs row"),
        "not a default category"
    );
    // The attachment holds the whole report: every line, every category.
    assert_eq!(c.attachments.len(), 1);
    let file = &c.attachments[0];
    assert_eq!(file.file_name, format!("beyondtrust-session-{lsid}.html"));
    let text = file.text();
    for i in 1..=1500 {
        assert!(
            text.contains(&format!("chat line {i:04}:")),
            "line {i} missing from the file"
        );
    }
    for cat in [
        "Processes",
        "Services",
        "Installed Programs",
        "Drivers",
        "Windows Updates",
    ] {
        assert!(text.contains(&format!("<strong>{cat}</strong>")), "{cat}");
    }
    assert!(
        text.contains("Name services of row 179 (#2.0)"),
        "last retrieval's last row"
    );
    // One ticket update carried the comment, the tags (added, not replacing) and the duration.
    let after = calls(&env, ticket);
    let (puts, gets, uploads) = (
        after.puts - before.puts,
        after.gets - before.gets,
        after.uploads - before.uploads,
    );
    assert_eq!((puts, gets, uploads), (1, 0, 1), "PUTs, GETs, uploads");
    assert_eq!(
        after.tag_calls - before.tag_calls,
        0,
        "no separate tags call"
    );
    let t = env.sb.zendesk.ticket(ticket).unwrap();
    for tag in ["vip", "beyondtrust", "remote_support"] {
        assert!(t.tags.contains(&tag.to_string()), "{tag} in {:?}", t.tags);
    }
    assert!(t
        .custom_fields
        .iter()
        .any(|f| f.id == 360001 && f.value.is_number()));
    println!(
        "MEASURED attached: largest comment {size} chars; Zendesk calls for the session: {puts} PUT, {gets} GET, {uploads} upload"
    );
}

#[tokio::test]
async fn a_refused_upload_splits_the_report_over_comments_within_budget() {
    let env = Env::start(Setup {
        zendesk: tags_and_duration(),
        ..Setup::default()
    })
    .await;
    env.sb.zendesk.set_ticket_update_limit(1000);
    env.sb.zendesk.refuse_uploads(Some("file type not allowed"));
    let ticket = env.sb.zendesk.create_ticket("Huge, no attachments");
    let lsid = env.sb.appliance.create_session(huge(ticket));
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;

    let comments = ours(&env, ticket);
    assert!(comments.len() >= 3, "{} comments", comments.len());
    let n = comments.len();
    let mut largest = 0;
    let mut all = String::new();
    for (i, c) in comments.iter().enumerate() {
        let size = c.html_body.chars().count();
        largest = largest.max(size);
        assert!(size <= BUDGET, "part {} has {size} characters", i + 1);
        assert!(c.attachments.is_empty());
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
    for v in 0..3 {
        assert!(all.contains(&format!("Name services of row 179 (#{v}.0)")));
        assert!(all.contains(&format!("HotFix ID windows updates of row 59 (#{v}.0)")));
    }
    let c = calls(&env, ticket);
    assert_eq!((c.puts, c.gets, c.uploads), (n, 0, 1));
    let t = env.sb.zendesk.ticket(ticket).unwrap();
    assert!(t.tags.contains(&"remote_support".to_string()));
    let events = env.app.events().await;
    assert_eq!(events[0].status, Status::Done);
    println!(
        "MEASURED split: {n} comments, largest {largest} chars; Zendesk calls: {} PUT, {} GET, {} upload (refused)",
        c.puts, c.gets, c.uploads
    );
}

#[tokio::test]
async fn an_ordinary_session_is_one_put_with_tags_and_duration_and_no_get() {
    let env = Env::start(Setup {
        zendesk: tags_and_duration(),
        ..Setup::default()
    })
    .await;
    let ticket = env.sb.zendesk.create_ticket("Small");
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .chat(sandbox::Party::CUSTOMER, "hello"),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    let c = calls(&env, ticket);
    assert_eq!((c.puts, c.gets, c.uploads, c.tag_calls), (1, 0, 0, 0));
    let put = env
        .sb
        .zendesk
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(put.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body["ticket"]["additional_tags"],
        serde_json::json!(["beyondtrust", "remote_support"])
    );
    assert_eq!(body["ticket"]["custom_fields"][0]["id"], 360001);
    assert_eq!(body["ticket"]["comment"]["public"], false);
    assert!(
        body["ticket"].get("tags").is_none(),
        "never replaces the ticket's tags"
    );
    println!(
        "MEASURED ordinary: Zendesk calls: {} PUT, {} GET",
        c.puts, c.gets
    );
}

#[tokio::test]
async fn a_503_with_retry_after_is_honoured() {
    let env = Env::start(Setup::default()).await;
    let ticket = env.sb.zendesk.create_ticket("503");
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .chat(sandbox::Party::CUSTOMER, "hello"),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.sb.zendesk.faults().fail_next_retry_after(1, 503, 2);
    let started = Instant::now();
    env.app.drain().await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2),
        "retried after {waited:?}, before Retry-After"
    );
    assert_eq!(ours(&env, ticket).len(), 1);
    let events = env.app.events().await;
    assert_eq!(events[0].status, Status::Done);
    assert_eq!(
        events[0].attempts, 0,
        "a 503 with Retry-After is not a failed attempt"
    );
}

/// A previous worker posted `lsid`'s comment (with its record) and died before recording it;
/// `before` and `after` other comments surround it on the ticket.
async fn posted_then_crashed(env: &Env, ticket: u64, before: usize, after: usize) -> String {
    posted_then_crashed_with(env, ticket, before, after, false).await
}

/// As [`posted_then_crashed`]; `legacy`: the comment ends with the `Ref: rsz:…` footer of
/// versions before the session record.
async fn posted_then_crashed_with(
    env: &Env,
    ticket: u64,
    before: usize,
    after: usize,
    legacy: bool,
) -> String {
    env.sb.zendesk.set_ticket_update_limit(10_000);
    env.sb.zendesk.set_rate_limit(100_000);
    let zd = client(env);
    for i in 0..before {
        zd.add_private_comment(ticket, &format!("<p>older reply {i}</p>"), &[])
            .await
            .unwrap();
    }
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .chat(sandbox::Party::CUSTOMER, "hello"),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    let store = env.app.store().clone();
    let claimed = store
        .claim_due(Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    let record = middleware::render::event_record(APPLIANCE_ID, &lsid, END, "");
    assert!(store
        .set_marker(&claimed, &record.key(), ticket)
        .await
        .unwrap());
    let body = if legacy {
        format!(
            "<p>posted by an older version</p>\n<p><small>Ref: {}</small></p>",
            middleware::render::legacy_marker(APPLIANCE_ID, &lsid, END, "")
        )
    } else {
        middleware::render::with_marker("<p>posted before the crash</p>", &record.to_line())
    };
    zd.add_private_comment(ticket, &body, &[]).await.unwrap();
    for i in 0..after {
        zd.add_private_comment(ticket, &format!("<p>newer reply {i}</p>"), &[])
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(5)).await; // the dead worker's lease runs out
    lsid
}

#[tokio::test]
async fn the_record_is_found_on_a_later_page_whatever_host_next_page_names() {
    let env = Env::start(Setup::default()).await;
    let ticket = env.sb.zendesk.create_ticket("Busy ticket");
    let lsid = posted_then_crashed(&env, ticket, 150, 150).await;
    // Behind host mapping Zendesk writes next_page on the account's canonical host.
    env.sb
        .zendesk
        .set_next_page_base(Some("https://sandbox-account.zendesk.test"));
    let before = calls(&env, ticket);
    env.app.drain().await;

    let matching = env
        .sb
        .zendesk
        .comments(ticket)
        .iter()
        .filter(|c| c.body.contains(&marker(&lsid, END)))
        .count();
    assert_eq!(matching, 1, "found on page 2, not posted again");
    let after = calls(&env, ticket);
    assert_eq!(after.puts - before.puts, 0);
    assert_eq!(
        after.gets - before.gets,
        2,
        "newest first: two pages of 100"
    );
    let get = env
        .sb
        .zendesk
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .unwrap();
    assert_eq!(get.param("sort_order"), Some("desc"));
    assert_eq!(env.app.events().await[0].status, Status::Done);
}

#[tokio::test]
async fn a_comment_of_an_older_version_is_recognised_on_a_later_page() {
    let env = Env::start(Setup::default()).await;
    let ticket = env.sb.zendesk.create_ticket("Upgraded mid-flight");
    let lsid = posted_then_crashed_with(&env, ticket, 150, 150, true).await;
    env.sb
        .zendesk
        .set_next_page_base(Some("https://sandbox-account.zendesk.test"));
    let before = calls(&env, ticket);
    env.app.drain().await;
    let legacy = middleware::render::legacy_marker(APPLIANCE_ID, &lsid, END, "");
    let comments = env.sb.zendesk.comments(ticket);
    let theirs = comments.iter().filter(|c| c.body.contains(&legacy)).count();
    let ours = comments
        .iter()
        .filter(|c| c.body.contains(&marker(&lsid, END)))
        .count();
    assert_eq!((theirs, ours), (1, 0), "not posted again");
    assert_eq!(calls(&env, ticket).puts - before.puts, 0);
    assert_eq!(env.app.events().await[0].status, Status::Done);
}

#[tokio::test]
async fn a_lookup_that_cannot_finish_is_retried_never_treated_as_not_found() {
    let env = Env::start(Setup::default()).await;
    let ticket = env.sb.zendesk.create_ticket("Unreadable listing");
    let lsid = posted_then_crashed(&env, ticket, 0, 150).await;
    // A next_page the client cannot follow: the lookup cannot finish.
    env.sb.zendesk.set_next_page_base(Some("zendesk:unusable"));
    let before = calls(&env, ticket);
    // (A short retry delay may make it due again within this call on a slow machine.)
    assert!(env.app.process_due().await >= 1);
    let after = calls(&env, ticket);
    assert_eq!(after.puts - before.puts, 0, "no post while unsure");
    let event = &env.app.events().await[0];
    assert_eq!(event.status, Status::Retry, "{event:?}");
    assert!(event
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("next_page"));
    // Zendesk behaves again: the retry finds the comment.
    env.sb.zendesk.set_next_page_base(None);
    env.app.drain().await;
    let matching = env
        .sb
        .zendesk
        .comments(ticket)
        .iter()
        .filter(|c| c.body.contains(&marker(&lsid, END)))
        .count();
    assert_eq!(matching, 1);
    assert_eq!(env.app.events().await[0].status, Status::Done);
}

#[tokio::test]
async fn an_update_applied_after_the_timeout_is_found_not_posted_again() {
    let mut tuning = middleware::testing::fast_tuning();
    tuning.http_timeout = Duration::from_millis(800);
    let env = Env::start(Setup {
        tuning,
        ..Setup::default()
    })
    .await;
    let ticket = env.sb.zendesk.create_ticket("Late");
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .chat(sandbox::Party::CUSTOMER, "hello"),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    // The PUT times out on our side; Zendesk applies it 300 ms after we gave up.
    env.sb
        .zendesk
        .apply_next_update_late(Duration::from_millis(1100));
    env.app.drain().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let matching = env
        .sb
        .zendesk
        .comments(ticket)
        .iter()
        .filter(|c| c.body.contains(&marker(&lsid, END)))
        .count();
    assert_eq!(matching, 1, "exactly one comment");
    assert_eq!(env.app.events().await[0].status, Status::Done);
}
