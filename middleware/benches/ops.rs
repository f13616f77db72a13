//! `cargo bench -p middleware --bench ops` (run by `cargo xtask bench`): the operations
//! figures of issue 12, side by side on this machine, as one JSON object on the last line.
//!
//! - ingest over real HTTP (the middleware's own listener and router, SQLite WAL with full
//!   fsync, group commit) for 1 and 64 keep-alive senders, against a bare 200-OK handler on
//!   the same listener, and the bare handler plus one fsync per request;
//! - drain of a 300-session backlog against the sandbox Zendesk limited to
//!   `DRAIN_BUDGET`/minute: achieved rate as a fraction of the budget, and 429s seen;
//! - the `middleware` binary: size, start-to-ready time, peak RSS idle and under 64 senders.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::watch;

const SECONDS_PER_RUN: f64 = 3.0;
const DRAIN_SESSIONS: usize = 300;
const DRAIN_BUDGET: u32 = 300;

#[derive(Debug, Clone, Copy)]
struct Load {
    events_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Load {
    fn json(&self) -> Value {
        json!({"events_per_s": self.events_per_s.round(), "p50_ms": round2(self.p50_ms), "p99_ms": round2(self.p99_ms)})
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

async fn serve(router: Router) -> (SocketAddr, watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = watch::channel(false);
    let settings = middleware::settings::IngestSettings {
        max_connections: 1024,
        ..Default::default()
    };
    tokio::spawn(middleware::listener::serve(
        listener, router, settings, None, rx,
    ));
    (addr, tx)
}

/// `senders` keep-alive clients posting distinct session-end events as fast as answers come.
async fn load(addr: SocketAddr, senders: usize, seconds: f64) -> Load {
    load_events(addr, senders, seconds, "support_conference_end").await
}

/// As [`load`], posting `event` events.
async fn load_events(addr: SocketAddr, senders: usize, seconds: f64, event: &'static str) -> Load {
    let url = format!("http://{addr}/ERSPost");
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..senders {
        let url = url.clone();
        tasks.spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut lat = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                let body = format!(
                    "event={event}&version=1.0&timestamp={}&lsid=s{s}n{i}{}&external_key=1",
                    1_700_000_000 + i,
                    rand::random::<u32>()
                );
                let t = Instant::now();
                let resp = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .expect("post");
                assert!(resp.status().is_success(), "{}", resp.status());
                let _ = resp.bytes().await;
                lat.push(t.elapsed());
                i += 1;
            }
            lat
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    Load {
        events_per_s: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

fn config_text(db: &str) -> String {
    format!(
        r#"[server]
database_url = "{db}"
[[configuration]]
name = "Bench"
appliance_id = "default"
[configuration.beyondtrust]
host = "127.0.0.1:9"
client_id = "id"
client_secret = "secret"
[configuration.zendesk]
url = "http://127.0.0.1:9"
username = "a@b.c"
token = "t"
"#
    )
}

async fn middleware_router() -> (Router, Arc<middleware::Shared>, String) {
    let db = middleware::testing::temp_database_url("bench-ops");
    let config = middleware::config::parse(&config_text(&db), "bench.toml", &|_| None).unwrap();
    let (tx, rx) = watch::channel(false);
    std::mem::forget(tx);
    let shared = middleware::Shared::build(config, middleware::Tuning::default(), rx)
        .await
        .unwrap();
    (middleware::ingest::router(shared.clone()), shared, db)
}

fn bare() -> Router {
    Router::new().route("/ERSPost", post(|| async { "OK\n" }))
}

/// The bare handler plus one fsync'd write per request: what one durable commit per event costs.
fn bare_fsync(path: std::path::PathBuf) -> Router {
    let file = Arc::new(Mutex::new(std::fs::File::create(path).unwrap()));
    Router::new().route(
        "/ERSPost",
        post(move || {
            let file = file.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let mut f = file.lock().unwrap();
                    f.write_all(b"x").unwrap();
                    f.sync_data().unwrap();
                })
                .await
                .unwrap();
                "OK\n"
            }
        }),
    )
}

async fn ingest() -> Value {
    let mut out = serde_json::Map::new();
    let (bare_addr, _b) = serve(bare()).await;
    let fsync_path = std::env::temp_dir().join(format!("bench-fsync-{}", std::process::id()));
    let (fsync_addr, _f) = serve(bare_fsync(fsync_path.clone())).await;
    let (router, shared, db) = middleware_router().await;
    let (mw_addr, _m) = serve(router).await;
    for senders in [1usize, 64] {
        // Warm up connections and caches.
        load(mw_addr, senders, 0.5).await;
        load(bare_addr, senders, 0.5).await;
        let mw = load(mw_addr, senders, SECONDS_PER_RUN).await;
        let b = load(bare_addr, senders, SECONDS_PER_RUN).await;
        let mut entry = json!({
            "middleware": mw.json(),
            "bare": b.json(),
            "ratio_to_bare": round2(mw.events_per_s / b.events_per_s),
        });
        if senders == 1 {
            let f = load(fsync_addr, 1, SECONDS_PER_RUN).await;
            entry["bare_plus_fsync"] = f.json();
            entry["ratio_to_bare_plus_fsync"] = json!(round2(mw.events_per_s / f.events_per_s));
        }
        out.insert(format!("senders_{senders}"), entry);
    }
    out.insert("group_commits".into(), json!(shared.store.group_commits()));
    out.insert(
        "events_stored".into(),
        json!(shared
            .store
            .status_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>()),
    );
    shared.store.close().await;
    middleware::testing::remove_sqlite_files(&db);
    let _ = std::fs::remove_file(fsync_path);
    Value::Object(out)
}

/// 300 sessions reach the middleware at once; workers post them against the budget.
async fn drain() -> Value {
    use sandbox::{Sandbox, SandboxOptions, SessionSpec};
    let sb = Sandbox::start(SandboxOptions {
        zendesk_rate_limit_per_minute: DRAIN_BUDGET,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let db = middleware::testing::temp_database_url("bench-drain");
    let text = format!(
        r#"[server]
database_url = "{db}"
workers = 8
[[configuration]]
name = "Drain"
appliance_id = "sandbox"
[configuration.beyondtrust]
host = "{host}"
client_id = "{id}"
client_secret = "{secret}"
allow_invalid_certificates = true
outbound_event_types = ["support_conference_end"]
[configuration.zendesk]
url = "{zd}"
username = "{email}"
token = "{token}"
update_rate_per_minute = {DRAIN_BUDGET}
"#,
        host = sb.appliance.host(),
        id = sb.appliance.client_id(),
        secret = sb.appliance.client_secret(),
        zd = sb.zendesk.base_url(),
        email = sb.zendesk.email(),
        token = sb.zendesk.api_token(),
    );
    let config = middleware::config::parse(&text, "drain.toml", &|_| None).unwrap();
    let app = middleware::testing::TestApp::spawn(config, middleware::Tuning::default(), 8)
        .await
        .unwrap();
    let mut tickets = Vec::new();
    for i in 0..DRAIN_SESSIONS {
        let t = sb.zendesk.create_ticket(&format!("Drain {i}"));
        let lsid = sb
            .appliance
            .create_session(SessionSpec::default().external_key(t.to_string()));
        sb.appliance.end_session(&lsid);
        tickets.push(t);
    }
    let started = Instant::now();
    sb.appliance
        .set_events_url(Some(app.events_url(Some("sandbox"))));
    loop {
        let done = tickets
            .iter()
            .filter(|t| !sb.zendesk.comments(**t).is_empty())
            .count();
        if done == DRAIN_SESSIONS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "drain stalled at {done}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let requests = sb.zendesk.requests();
    let throttled = requests.iter().filter(|r| r.status == 429).count();
    let per_minute = DRAIN_SESSIONS as f64 / elapsed * 60.0;
    app.shutdown().await;
    middleware::testing::remove_sqlite_files(&db);
    json!({
        "sessions": DRAIN_SESSIONS,
        "budget_per_minute": DRAIN_BUDGET,
        "seconds": round2(elapsed),
        "comments_per_minute": per_minute.round(),
        "fraction_of_budget": round2(per_minute / DRAIN_BUDGET as f64),
        "zendesk_requests": requests.len(),
        "http_429": throttled,
    })
}

fn rss_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The real binary: size, start-to-ready, peak RSS idle and under 64 senders.
async fn binary() -> Value {
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_middleware"));
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("bench-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let admin = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = format!("sqlite://{}", dir.join("mw.db").display());
    let text = config_text(&db).replace(
        "[server]\n",
        &format!("[server]\nevents_listen = \"127.0.0.1:{port}\"\nadmin_listen = \"127.0.0.1:{admin}\"\n"),
    );
    std::fs::write(dir.join("mw.toml"), text).unwrap();
    let started = Instant::now();
    let mut child = std::process::Command::new(&bin)
        .args(["serve", "--config"])
        .arg(dir.join("mw.toml"))
        .env("MIDDLEWARE_ADMIN_PASSWORD", "bench-password")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let ready_url = format!("http://127.0.0.1:{port}/readyz");
    loop {
        if let Ok(r) = client.get(&ready_url).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never ready");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ready_ms = started.elapsed().as_secs_f64() * 1e3;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(child.id(), "VmRSS:");
    let loaded = load(
        SocketAddr::from(([127, 0, 0, 1], port)),
        64,
        SECONDS_PER_RUN,
    )
    .await;
    let peak = rss_kib(child.id(), "VmHWM:");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    json!({
        "size_bytes": size,
        "ready_ms": round2(ready_ms),
        "rss_idle_kib": idle,
        "rss_peak_under_load_kib": peak,
        "load_64_senders_as_process": loaded.json(),
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ingest = rt.block_on(ingest());
    let binary = rt.block_on(binary());
    let drain = rt.block_on(drain());
    let result = json!({
        "ingest": ingest,
        "drain": drain,
        "binary": binary,
    });
    println!("{result}");
}
