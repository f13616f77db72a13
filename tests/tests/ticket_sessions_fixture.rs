//! The sidebar's "Sessions on this ticket" list reads the comments the real middleware writes.
//! This test produces them: sessions (with surveys) run on the sandbox appliance, the middleware
//! posts their reports to the sandbox Zendesk, and the sidebar's parser must find every session.
//!
//! With `RSZ_UPDATE_FIXTURES=1` it also saves the comments as
//! `tests/browser/fixtures/middleware-comments.json`, the fixture the browser test renders
//! (`tests/browser/ticket_sessions.test.mjs`): regenerate it whenever the middleware's comments
//! change, never edit it by hand.

use std::time::Duration;

use app_core::ticket_sessions::{sessions, Comment};
use e2e::{eventually, free_port, MiddlewareProcess, SandboxProcess};
use serde_json::{json, Value};

fn rep(id: u32, username: &str, name: &str) -> Value {
    json!({
        "id": id, "username": username, "display_name": name, "public_display_name": name,
        "private_display_name": name, "public_ip": "198.51.100.20:52000", "private_ip": "10.1.0.7",
        "hostname": "REP-LAPTOP", "os": "Windows 11 Pro"
    })
}

fn survey(rating: &str) -> Value {
    json!([{"id": 1, "kind": "radio", "name": "rating", "label": "How satisfied are you?", "report_header": "Rating", "answers": [rating]}])
}

fn as_comment(c: &Value) -> Comment {
    Comment {
        id: c["id"].as_u64().unwrap_or_default(),
        created_at: c["created_at"].as_str().unwrap_or_default().into(),
        body: c["body"].as_str().unwrap_or_default().into(),
        html_body: c["html_body"].as_str().unwrap_or_default().into(),
    }
}

#[tokio::test]
async fn middleware_comments_list_every_session_of_a_ticket() -> anyhow::Result<()> {
    let port = free_port()?;
    let sandbox = SandboxProcess::start(&format!("http://127.0.0.1:{port}/ERSPost"))?;
    let mut middleware = MiddlewareProcess::configure(&sandbox, port)?;
    middleware.start()?;
    let busy = sandbox.create_ticket("Printer prints blank pages").await?;
    let quiet = sandbox.create_ticket("Password reset").await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let runs = [
        (
            busy,
            rep(7, "jrep", "John Rep"),
            Some("3"),
            now - 3 * 86_400,
        ),
        (busy, rep(9, "awu", "Ann Wu"), Some("5"), now - 86_400),
        (busy, rep(7, "jrep", "John Rep"), None, now - 3_600),
        (quiet, rep(9, "awu", "Ann Wu"), None, now - 7_200),
    ];
    let mut lsids = Vec::new();
    for (ticket, rep, rating, start) in &runs {
        let mut spec = json!({
            "external_key": ticket.to_string(),
            "reps": [rep],
            "start_time": start,
            "events": [
                {"type": "chat", "from": {"rep": 0}, "text": "Hello, I am connected now."},
                {"type": "note", "by": {"rep": 0}, "text": "Checked the driver."}
            ],
        });
        if let Some(rating) = rating {
            spec["customer_survey"] = survey(rating);
        }
        lsids.push((*ticket, sandbox.run_session(spec).await?));
    }
    // One report per session, one comment per survey.
    let expected = |ticket: u64| {
        runs.iter()
            .filter(|r| r.0 == ticket)
            .map(|r| 1 + usize::from(r.2.is_some()))
            .sum::<usize>()
    };
    let mut saved = serde_json::Map::new();
    for ticket in [busy, quiet] {
        let comments = eventually(
            "the middleware's comments",
            Duration::from_secs(90),
            || async {
                let comments = sandbox.comments(ticket).await?;
                Ok((comments.len() >= expected(ticket)).then_some(comments))
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}\nmiddleware log:\n{}", middleware.logs()))?;
        let rows = sessions(&comments.iter().map(as_comment).collect::<Vec<_>>());
        let mut want: Vec<&str> = lsids
            .iter()
            .filter(|(t, _)| *t == ticket)
            .map(|(_, l)| l.as_str())
            .collect();
        let mut got: Vec<&str> = rows.iter().map(|r| r.lsid.as_str()).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "ticket {ticket}: {rows:#?}");
        assert!(rows.iter().all(|r| r.ended), "{rows:#?}");
        // The `rsz/1` records carry the representative, the start and the survey score.
        for ((_, lsid), (_, rep, rating, start)) in
            lsids.iter().zip(&runs).filter(|(l, _)| l.0 == ticket)
        {
            let row = rows.iter().find(|r| &r.lsid == lsid).expect("listed above");
            assert_eq!(row.rep.as_deref(), rep["display_name"].as_str(), "{row:#?}");
            assert_eq!(row.survey.as_deref(), *rating, "{row:#?}");
            assert_eq!(
                app_core::ticket_sessions::unix_time(&row.when),
                Some(*start),
                "{row:#?}"
            );
        }
        // Each row links to a comment of this ticket.
        for row in &rows {
            assert!(comments
                .iter()
                .any(|c| c["id"].as_u64() == Some(row.comment_id)));
        }
        saved.insert(
            ticket.to_string(),
            Value::Array(
                comments
                    .iter()
                    .map(|c| {
                        json!({
                            "id": c["id"], "type": "Comment", "public": c["public"],
                            "author_id": c["author_id"], "created_at": c["created_at"],
                            "body": c["body"], "html_body": c["html_body"],
                        })
                    })
                    .collect(),
            ),
        );
    }
    if std::env::var_os("RSZ_UPDATE_FIXTURES").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/browser/fixtures/middleware-comments.json"
        );
        let fixture = json!({
            "generated_by": "cargo test -p e2e --test ticket_sessions_fixture (RSZ_UPDATE_FIXTURES=1)",
            "busy_ticket": busy,
            "quiet_ticket": quiet,
            "tickets": saved,
        });
        std::fs::write(path, serde_json::to_string_pretty(&fixture)? + "\n")?;
    }
    Ok(())
}

/// The committed fixture is what the middleware writes: every session in it is found.
#[test]
fn the_committed_fixture_lists_its_sessions() -> anyhow::Result<()> {
    let text = include_str!("../browser/fixtures/middleware-comments.json");
    let fixture: Value = serde_json::from_str(text)?;
    let busy = fixture["busy_ticket"].to_string();
    let comments: Vec<Comment> = fixture["tickets"][&busy]
        .as_array()
        .map(|a| a.iter().map(as_comment).collect())
        .unwrap_or_default();
    let rows = sessions(&comments);
    assert!(rows.len() >= 3, "several sessions: {rows:#?}");
    // Generated by the middleware that writes `rsz/1` records (representative, survey score).
    assert!(rows.iter().all(|r| r.rep.is_some()), "{rows:#?}");
    assert!(
        rows.iter().filter(|r| r.survey.is_some()).count() >= 2,
        "{rows:#?}"
    );
    Ok(())
}
