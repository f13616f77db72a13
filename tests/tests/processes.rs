//! The product as separate processes: the sandbox appliance delivers outbound events to a real
//! `middleware serve`, which adds the reports to the sandbox Zendesk.

use std::time::Duration;

use e2e::{eventually, free_port, MiddlewareProcess, SandboxProcess};
use serde_json::{json, Value};

fn session(ticket: u64) -> Value {
    json!({
        "external_key": ticket.to_string(),
        "events": [
            {"type": "chat", "from": {"rep": 0}, "text": "Hello from the representative"},
            {"type": "chat", "from": {"customer": 0}, "text": "<script>alert('x')</script> still broken"},
            {"type": "file_upload", "by": {"rep": 0}, "name": "fix.ps1", "size": 2048},
            {"type": "note", "by": {"rep": 0}, "text": "Ran fix.ps1"}
        ],
        "customer_survey": [{"id": 1, "kind": "radio", "name": "rating", "label": "Rating?", "report_header": "Rating", "answers": ["4"]}]
    })
}

fn bodies(comments: &[Value]) -> Vec<String> {
    comments
        .iter()
        .map(|c| {
            c["html_body"]
                .as_str()
                .or(c["body"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_session_report_crosses_real_processes_into_a_private_comment() -> anyhow::Result<()> {
    let port = free_port()?;
    let sandbox = SandboxProcess::start(&format!("http://127.0.0.1:{port}/ERSPost"))?;
    let mut middleware = MiddlewareProcess::configure(&sandbox, port)?;
    middleware.start()?;
    let ticket = sandbox.create_ticket("VPN drops every hour").await?;
    sandbox.run_session(session(ticket)).await?;

    let comments = eventually(
        "the session and survey comments",
        Duration::from_secs(60),
        || async {
            let comments = sandbox.comments(ticket).await?;
            Ok((comments.len() >= 2).then_some(comments))
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\nmiddleware log:\n{}", middleware.logs()))?;

    assert_eq!(
        comments.len(),
        2,
        "one session comment and one survey comment"
    );
    assert!(
        comments.iter().all(|c| c["public"] == false),
        "comments must be private"
    );
    let text = bodies(&comments).join("\n");
    for expected in ["Hello from the representative", "fix.ps1", "Ran fix.ps1"] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
    assert!(
        !text.contains("<script>alert"),
        "customer chat must be escaped: {text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_middleware_killed_mid_work_loses_nothing_and_duplicates_nothing() -> anyhow::Result<()> {
    let port = free_port()?;
    let sandbox = SandboxProcess::start(&format!("http://127.0.0.1:{port}/ERSPost"))?;
    let mut middleware = MiddlewareProcess::configure(&sandbox, port)?;
    middleware.start()?;
    let ticket = sandbox.create_ticket("Laptop will not boot").await?;
    // Zendesk answers slowly, so the kill lands while comments are being posted.
    sandbox.faults("zendesk", json!({"slow_ms": 1500})).await?;
    sandbox.run_session(session(ticket)).await?;
    eventually(
        "the appliance to deliver both events",
        Duration::from_secs(30),
        || async { Ok((sandbox.delivered_events().await? >= 2).then_some(())) },
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(800)).await; // a Zendesk call is now in flight
    middleware.kill();
    sandbox.faults("zendesk", json!({"clear": true})).await?;

    middleware.start()?;
    eventually(
        "both comments after the restart",
        Duration::from_secs(90),
        || async {
            let comments = sandbox.comments(ticket).await?;
            Ok((comments.len() >= 2).then_some(comments))
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\nmiddleware log:\n{}", middleware.logs()))?;
    // Let any wrongly repeated post land before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let comments = sandbox.comments(ticket).await?;
    assert_eq!(
        comments.len(),
        2,
        "exactly one comment per event: {:#?}",
        bodies(&comments)
    );
    Ok(())
}
