//! The events listener as operators run it: shared token, allowed networks, TLS, timeouts,
//! connection cap, `/metrics`, `/readyz`, retention — through a real `Server` on loopback.

use std::time::Duration;

use middleware::config;
use middleware::testing::{remove_sqlite_files, temp_database_url};
use middleware::{Server, Tuning};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const BEGIN: &str = "event=support_conference_begin&timestamp=1700000000&lsid=abc";
const END: &str = "event=support_conference_end&timestamp=1700000900&lsid=abc";

struct Running {
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
    db: String,
    shared: std::sync::Arc<middleware::Shared>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.done).await;
        remove_sqlite_files(&self.db);
    }
}

fn config_text(db: &str, extra: &str) -> String {
    format!(
        r#"
[server]
events_listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
database_url = "{db}"
workers = 1
{extra}
[[configuration]]
name = "Prod"
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

async fn start(extra: &str) -> Result<Running, middleware::StartError> {
    let db = temp_database_url("ops");
    let config = config::parse(&config_text(&db, extra), "ops.toml", &|_| None).expect("config");
    let server = Server::bind(config, Tuning::default()).await?;
    let addr = server.local_addr().unwrap();
    let shared = server.shared().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        stop: Some(tx),
        done,
        db,
        shared,
    })
}

async fn post(url: &str, body: &'static str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

const TOKEN: &str = "s3cr3t-ingest-token_0123";

#[tokio::test]
async fn the_shared_token_is_required_and_checked() {
    let app = start(&format!("[ingest]\ntoken = \"{TOKEN}\"\n"))
        .await
        .unwrap();
    let base = format!("http://{}/ERSPost", app.addr);
    let (status, body) = post(&base, BEGIN).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body.contains("?token=") && body.trim_end().lines().count() == 1,
        "{body}"
    );
    let (status, body) = post(&format!("{base}?token=wrong-token-of-some-length"), BEGIN).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("wrong token") && !body.contains(TOKEN),
        "{body}"
    );
    // Same length, one character off.
    let almost = format!("{}X", &TOKEN[..TOKEN.len() - 1]);
    let (status, _) = post(&format!("{base}?token={almost}"), BEGIN).await;
    assert_eq!(status, 403);
    assert!(
        app.shared.store.events().await.unwrap().is_empty(),
        "refused events are not stored"
    );
    let (status, body) = post(&format!("{base}?appliance=default&token={TOKEN}"), BEGIN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.shared.store.events().await.unwrap().len(), 1);
    // Health and readiness stay open to probes without the token.
    let health = reqwest::get(format!("http://{}/healthz", app.addr))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    app.stop().await;
}

#[test]
fn a_short_or_unsafe_token_is_a_configuration_error() {
    let err = config::parse(
        &config_text("sqlite://x.db", "[ingest]\ntoken = \"short\"\n"),
        "ops.toml",
        &|_| None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("ingest.token") && err.contains("16"), "{err}");
    let err = config::parse(
        &config_text("sqlite://x.db", "[ingest]\ntoken_env = \"NOPE_TOKEN\"\n"),
        "ops.toml",
        &|_| None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("NOPE_TOKEN"), "{err}");
}

#[tokio::test]
async fn only_allowed_networks_may_post() {
    let app = start("[ingest]\nallowed_networks = [\"10.9.0.0/16\", \"192.0.2.7\"]\n")
        .await
        .unwrap();
    let (status, body) = post(&format!("http://{}/ERSPost", app.addr), BEGIN).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("127.0.0.1")
            && body.contains("allowed_networks")
            && body.trim_end().lines().count() == 1,
        "{body}"
    );
    assert!(app.shared.store.events().await.unwrap().is_empty());
    app.stop().await;

    let app = start("[ingest]\nallowed_networks = [\"127.0.0.0/8\"]\n")
        .await
        .unwrap();
    let (status, body) = post(&format!("http://{}/ERSPost", app.addr), BEGIN).await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

#[test]
fn a_bad_network_is_a_configuration_error_with_its_line() {
    let text = config_text(
        "sqlite://x.db",
        "[ingest]\nallowed_networks = [\"10.0.0.0/40\"]\n",
    );
    let err = config::parse(&text, "ops.toml", &|_| None)
        .unwrap_err()
        .to_string();
    let line = text
        .lines()
        .position(|l| l.contains("10.0.0.0/40"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("ops.toml:{line}:")) && err.contains("prefix"),
        "{err}"
    );
}

fn write_cert(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = cert.cert.pem();
    let cert_path = dir.join("events.crt");
    let key_path = dir.join("events.key");
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    (cert_path, key_path, cert_pem.into_bytes())
}

#[tokio::test]
async fn the_tls_listener_serves_https_only() {
    let dir = std::env::temp_dir().join(format!("mw-tls-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key, pem) = write_cert(&dir);
    let app = start(&format!(
        "[ingest]\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"\n",
        cert.display(),
        key.display()
    ))
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .resolve("localhost", app.addr)
        .build()
        .unwrap();
    let resp = client
        .post(format!("https://localhost:{}/ERSPost", app.addr.port()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(END)
        .send()
        .await
        .expect("HTTPS request");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(app.shared.store.events().await.unwrap().len(), 1);
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .post(format!("http://{}/ERSPost", app.addr))
        .body(END)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP must not be served: {plain:?}");
    app.stop().await;

    // A key that does not exist stops the start with the file named.
    let err = start(&format!(
        "[ingest]\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"\n",
        cert.display(),
        dir.join("missing.key").display()
    ))
    .await
    .err()
    .expect("start must fail")
    .to_string();
    assert!(err.contains("missing.key"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_cut_off() {
    let app = start("[ingest]\nheader_timeout_secs = 1\n").await.unwrap();
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    s.write_all(b"POST /ERSPost HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the connection stayed open past the header timeout"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408() {
    let app = start("[ingest]\nbody_timeout_secs = 1\n").await.unwrap();
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        b"POST /ERSPost HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nevent=",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let app = start("[ingest]\nmax_connections = 1\n").await.unwrap();
    // One client holds the only slot with an open, idle connection.
    let holder = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let url = format!("http://{}/ERSPost", app.addr);
    let waiting = tokio::spawn(async move { post(&url, BEGIN).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "a second connection was served past the cap"
    );
    drop(holder);
    let (status, _) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("served once the slot is free")
        .unwrap();
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn metrics_and_readiness() {
    let app = start("").await.unwrap();
    let (status, _) = post(&format!("http://{}/ERSPost", app.addr), BEGIN).await;
    assert_eq!(status, 200);
    let ready = reqwest::get(format!("http://{}/readyz", app.addr))
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let metrics = reqwest::get(format!("http://{}/metrics", app.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "# TYPE rsz_events_received counter",
        "rsz_events_received_total{type=\"other\",outcome=\"skipped\"}",
        "rsz_queue_depth{status=\"skipped\"} 1",
        "rsz_queue_depth{status=\"received\"} 0",
        "# TYPE rsz_oldest_due_age_seconds gauge",
        "# TYPE rsz_processing_seconds histogram",
        "# TYPE rsz_retries counter",
        "# TYPE rsz_zendesk_requests counter",
        "# TYPE rsz_appliance_requests counter",
        "# TYPE rsz_rate_limit_waits counter",
    ] {
        assert!(metrics.contains(name), "missing {name:?} in\n{metrics}");
    }
    // The database goes away: not ready, with the reason.
    app.shared.store.close().await;
    let ready = reqwest::get(format!("http://{}/readyz", app.addr))
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    assert!(ready.text().await.unwrap().contains("database"));
    app.stop().await;
}

#[test]
fn retention_and_log_format_are_validated() {
    let c = config::parse(
        &config_text(
            "sqlite://x.db",
            "[operations]\nretain_days = 30\nlog_format = \"json\"\n",
        ),
        "ops.toml",
        &|_| None,
    )
    .unwrap();
    assert_eq!(c.operations.retain_days, Some(30));
    assert_eq!(
        c.operations.log_format,
        middleware::settings::LogFormat::Json
    );
    let err = config::parse(
        &config_text("sqlite://x.db", "[operations]\nretain_days = 0\n"),
        "ops.toml",
        &|_| None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("retain_days"), "{err}");
}
