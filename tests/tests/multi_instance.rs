//! Scale-out on PostgreSQL: three `middleware serve` processes share one database behind one
//! appliance (through a round-robin TCP balancer, as a load balancer would sit in front of
//! them). One of them is killed with SIGKILL mid-run and restarted. Every event must end with
//! exactly one comment, none lost, and the Zendesk simulator, which answers 429 to any request
//! over its per-minute budget, must never have had to: the instances share the account's budget.
//!
//! Needs a PostgreSQL server: `MIDDLEWARE_TEST_POSTGRES_URL` (set by `cargo xtask test` for its
//! throwaway cluster), so it is `#[ignore]`d in plain `cargo test`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use e2e::{eventually, free_port, MiddlewareProcess, SandboxProcess};
use serde_json::{json, Value};
use sqlx::Row;
use tokio::net::{TcpListener, TcpStream};

/// Sessions pushed (each: end event + customer survey + representative survey).
const SESSIONS: usize = 1000;
/// The Zendesk account's requests per minute, in the simulator and in `update_rate_per_minute`
/// (scaled up from Zendesk's 100 so that 3,000 comments post in about three minutes).
const BUDGET_PER_MINUTE: u32 = 1200;

fn session(ticket: u64) -> Value {
    json!({
        "external_key": ticket.to_string(),
        "events": [
            {"type": "chat", "from": {"rep": 0}, "text": format!("Working on ticket {ticket}")},
            {"type": "note", "by": {"rep": 0}, "text": "Rebooted the router"}
        ],
        "customer_survey": [{"id": 1, "kind": "radio", "name": "rating", "label": "Rating?", "report_header": "Rating", "answers": ["5"]}],
        "rep_survey": [{"id": 2, "kind": "text", "name": "resolution", "label": "Resolution?", "report_header": "Resolution", "answers": ["Fixed"]}]
    })
}

/// Forwards each connection to the next backend that accepts it (dead ones are skipped).
async fn balancer(listener: TcpListener, backends: Vec<SocketAddr>) {
    let next = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        let backends = backends.clone();
        let start = next.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            for i in 0..backends.len() {
                let backend = backends[(start + i) % backends.len()];
                if let Ok(mut outbound) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    return;
                }
            }
        });
    }
}

async fn fresh_database(admin: &str) -> anyhow::Result<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(admin).await?;
    let name = format!("mw_multi_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&pool)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

fn comment_count(tickets: &[Value]) -> usize {
    tickets
        .iter()
        .map(|t| t["comments"].as_array().map_or(0, Vec::len))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server in MIDDLEWARE_TEST_POSTGRES_URL (cargo xtask test runs it)"]
async fn three_instances_on_postgres_survive_a_sigkill_without_loss_duplicates_or_429(
) -> anyhow::Result<()> {
    let admin = std::env::var("MIDDLEWARE_TEST_POSTGRES_URL")?;
    let database = fresh_database(&admin).await?;

    let front = TcpListener::bind("127.0.0.1:0").await?;
    let front_addr = front.local_addr()?;
    let sandbox = SandboxProcess::start_with(
        &format!("http://{front_addr}/ERSPost"),
        &["--zendesk-rate-limit", &BUDGET_PER_MINUTE.to_string()],
    )?;
    let extra = format!(
        "update_rate_per_minute = {BUDGET_PER_MINUTE}\n\n[operations]\nclaim_lease_secs = 10\n"
    );
    let mut instances = Vec::new();
    let mut backends = Vec::new();
    for _ in 0..3 {
        let port = free_port()?;
        let mut m = MiddlewareProcess::configure_with(&sandbox, port, Some(&database), &extra)?;
        m.start()?;
        backends.push(SocketAddr::from(([127, 0, 0, 1], port)));
        instances.push(m);
    }
    tokio::spawn(balancer(front, backends));

    let mut tickets = Vec::new();
    for i in 0..SESSIONS {
        tickets.push(sandbox.create_ticket(&format!("Ticket {i}")).await?);
    }
    for ticket in &tickets {
        sandbox.run_session(session(*ticket)).await?;
    }
    let logs = |instances: &[MiddlewareProcess]| {
        instances
            .iter()
            .map(|m| {
                m.logs()
                    .lines()
                    .rev()
                    .take(30)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect::<Vec<_>>()
            .join("\n----\n")
    };

    // Mid-run: a third of the comments are in.
    eventually(
        "a third of the comments",
        Duration::from_secs(300),
        || async {
            let n = comment_count(&sandbox.tickets().await?);
            Ok((n >= SESSIONS).then_some(()))
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", logs(&instances)))?;
    instances[1].kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    instances[1].start()?;

    let total = SESSIONS * 3;
    eventually("every comment", Duration::from_secs(600), || async {
        let n = comment_count(&sandbox.tickets().await?);
        Ok((n >= total).then_some(()))
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", logs(&instances)))?;
    // Let any wrongly repeated post land before counting.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let all = sandbox.tickets().await?;
    for ticket in &tickets {
        let t = all
            .iter()
            .find(|t| t["id"].as_u64() == Some(*ticket))
            .ok_or_else(|| anyhow::anyhow!("ticket {ticket} is gone"))?;
        let n = t["comments"].as_array().map_or(0, Vec::len);
        assert_eq!(
            n, 3,
            "ticket {ticket}: exactly one comment per event, got {n}"
        );
    }
    assert_eq!(
        sandbox.delivered_events().await?,
        total,
        "every event delivered"
    );

    let throttled = sandbox
        .zendesk_requests()
        .await?
        .iter()
        .filter(|r| r["status"].as_u64() == Some(429))
        .count();
    assert_eq!(
        throttled, 0,
        "the instances together went over the account's {BUDGET_PER_MINUTE}/minute"
    );

    let pool = sqlx::AnyPool::connect(&database).await?;
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM events GROUP BY status")
        .fetch_all(&pool)
        .await?;
    let counts: Vec<(String, i64)> = rows
        .iter()
        .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    assert_eq!(
        counts,
        [("done".to_string(), total as i64)],
        "every event done once"
    );
    pool.close().await;
    Ok(())
}
