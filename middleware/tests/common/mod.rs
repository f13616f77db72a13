//! Shared setup: a sandbox (appliance + Zendesk) and an in-process middleware pointed at it.
#![allow(dead_code)]

use std::time::Duration;

use middleware::config::{self, Config};
use middleware::testing::{fast_tuning, temp_database_url, TestApp};
use middleware::Tuning;
use sandbox::{Sandbox, SandboxOptions};

pub const APPLIANCE_ID: &str = "sandbox";
pub const END: &str = "support_conference_end";
pub const CUST_SURVEY: &str = "support_conference_customer_exit_survey_completed";
pub const REP_SURVEY: &str = "support_conference_rep_exit_survey_completed";

/// Knobs for one test's configuration.
#[derive(Clone)]
pub struct Setup {
    pub workers: usize,
    pub tuning: Tuning,
    /// Extra lines for `[configuration.beyondtrust]` (override defaults by adding keys).
    pub beyondtrust: String,
    pub zendesk: String,
    pub legacy: bool,
    pub allow_invalid_certificates: bool,
    /// `None`: the key is left out (the defaults: retry for 24 hours).
    pub retry_attempt_limit: Option<u32>,
    /// `[configuration.beyondtrust] locale`.
    pub locale: String,
    pub database_url: String,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            workers: 0,
            tuning: fast_tuning(),
            beyondtrust: String::new(),
            zendesk: String::new(),
            legacy: false,
            allow_invalid_certificates: true,
            retry_attempt_limit: Some(5),
            locale: "en-us".into(),
            database_url: temp_database_url("it"),
        }
    }
}

pub fn config_text(sb: &Sandbox, setup: &Setup) -> String {
    let auth = if setup.legacy {
        format!(
            "username = \"{}\"\npassword = \"{}\"",
            sb.appliance.legacy_username(),
            sb.appliance.legacy_password()
        )
    } else {
        format!(
            "client_id = \"{}\"\nclient_secret = \"{}\"",
            sb.appliance.client_id(),
            sb.appliance.client_secret()
        )
    };
    let outbound = if setup.beyondtrust.contains("outbound_event_types") {
        String::new()
    } else {
        format!("outbound_event_types = [\"{END}\", \"{CUST_SURVEY}\", \"{REP_SURVEY}\"]")
    };
    format!(
        r#"
[server]
database_url = "{db}"

[[configuration]]
name = "Sandbox"
appliance_id = "{APPLIANCE_ID}"
[configuration.beyondtrust]
host = "{host}"
{auth}
locale = "{locale}"
allow_invalid_certificates = {allow}
{outbound}
{limit}
{bt_extra}
[configuration.zendesk]
url = "{zd}"
username = "{email}"
token = "{token}"
{zd_extra}
"#,
        db = setup.database_url,
        host = sb.appliance.host(),
        allow = setup.allow_invalid_certificates,
        locale = setup.locale,
        limit = setup
            .retry_attempt_limit
            .map(|l| format!("retry_attempt_limit = {l}"))
            .unwrap_or_default(),
        bt_extra = setup.beyondtrust,
        zd = sb.zendesk.base_url(),
        email = sb.zendesk.email(),
        token = sb.zendesk.api_token(),
        zd_extra = setup.zendesk,
    )
}

pub fn config(sb: &Sandbox, setup: &Setup) -> Config {
    config::parse(&config_text(sb, setup), "test.toml", &|_| None).expect("test config")
}

pub struct Env {
    pub sb: Sandbox,
    pub app: TestApp,
    pub setup: Setup,
}

impl Env {
    pub async fn start(setup: Setup) -> Env {
        Self::start_with(SandboxOptions::default(), setup).await
    }

    pub async fn start_with(opts: SandboxOptions, mut setup: Setup) -> Env {
        if let Ok(admin) = std::env::var("MIDDLEWARE_TEST_POSTGRES_URL") {
            setup.database_url = fresh_postgres_database(&admin).await;
        }
        let sb = Sandbox::start(opts).await.expect("sandbox");
        let app = TestApp::spawn(config(&sb, &setup), setup.tuning.clone(), setup.workers)
            .await
            .expect("app");
        sb.appliance
            .set_events_url(Some(app.events_url(Some(APPLIANCE_ID))));
        Env { sb, app, setup }
    }

    /// Kills the middleware (tasks dropped wherever they are) and starts a new one on the same
    /// database, as after a crash.
    pub async fn restart(&mut self) {
        // The killed process's SQLite lock goes with it; then the new one may own the file.
        self.app.kill().await;
        self.app = TestApp::spawn(
            config(&self.sb, &self.setup),
            self.setup.tuning.clone(),
            self.setup.workers,
        )
        .await
        .expect("restarted app");
        self.sb
            .appliance
            .set_events_url(Some(self.app.events_url(Some(APPLIANCE_ID))));
    }

    /// A new ticket and a live session whose external key names it: `(ticket, lsid)`.
    pub fn ticket_session(&self, subject: &str) -> (u64, String) {
        let ticket = self.sb.zendesk.create_ticket(subject);
        let lsid = self
            .sb
            .appliance
            .create_session(sandbox::SessionSpec::default().external_key(ticket.to_string()));
        (ticket, lsid)
    }

    pub async fn delivered(&self, n: usize) {
        self.sb
            .appliance
            .wait_events_delivered(n, Duration::from_secs(20))
            .await
            .expect("events delivered");
    }

    /// Ticket updates (PUT tickets/{id}.json) the Zendesk simulator received.
    pub fn comment_puts(&self) -> usize {
        self.sb
            .zendesk
            .requests()
            .iter()
            .filter(|r| {
                r.method == "PUT"
                    && r.path.starts_with("/api/v2/tickets/")
                    && !r.path.ends_with("/tags.json")
            })
            .count()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        middleware::testing::remove_sqlite_files(&self.setup.database_url);
    }
}

/// Polls `cond` until true (for conditions no component signals, e.g. a row reaching a state).
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !cond().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The start of an event's session record (`rsz/1 appliance=.. lsid=.. event=..`): what a
/// comment of that event contains.
pub fn marker(lsid: &str, event: &str) -> String {
    format!("rsz/1 appliance={APPLIANCE_ID} lsid={lsid} event={event}")
}

/// With `MIDDLEWARE_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/postgres` every test runs on its
/// own fresh Postgres database instead of SQLite.
async fn fresh_postgres_database(admin: &str) -> String {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(admin).await.expect("postgres");
    let name = format!("mw_it_{}", rand::random::<u32>());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("create database");
    pool.close().await;
    format!(
        "{}/{name}",
        admin.rsplit_once('/').expect("URL with a database").0
    )
}

/// Serves the admin of `app` with `password` on 127.0.0.1:0 until the test ends.
pub async fn serve_admin(app: &TestApp, password: &str) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let admin = middleware::admin::router(middleware::admin::AdminState::new(
        app.shared.clone(),
        middleware::secret::Secret::new(password),
    ));
    tokio::spawn(async move { axum::serve(listener, admin).await });
    addr
}
