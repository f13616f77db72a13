//! Helpers for end-to-end tests that run the real binaries (`sandbox`, `middleware`) as separate
//! processes talking real HTTP on loopback — the way they run in production and in the demo.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

/// `target/debug` (or the profile dir) this test binary was built into.
fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test-binary>
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("cannot locate the target directory from {}", exe.display()))
}

/// The path of a workspace binary, built up to date first (`cargo test -p e2e` alone does not
/// rebuild other packages' binaries; a no-op when `cargo test --workspace` already did).
pub fn binary(name: &str) -> Result<PathBuf> {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let out = Command::new(cargo)
                .args(["build", "--quiet", "-p", "sandbox", "-p", "middleware"])
                .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
                .output()
                .map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        })
        .clone()
        .map_err(|e| anyhow!("building the binaries failed: {e}"))?;
    Ok(bin_dir()?.join(name))
}

/// A child process killed when dropped, so a failing test leaves nothing running.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nobody listens on now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running `sandbox serve` and the JSON line it printed.
pub struct SandboxProcess {
    pub info: Value,
    _process: Process,
}

impl SandboxProcess {
    pub fn start(events_url: &str) -> Result<Self> {
        Self::start_with(events_url, &[])
    }

    /// With extra `sandbox serve` arguments (e.g. `--zendesk-rate-limit 600`).
    pub fn start_with(events_url: &str, args: &[&str]) -> Result<Self> {
        let mut child = Command::new(binary("sandbox")?)
            .args(["serve", "--events-url", events_url])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting sandbox serve")?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let process = Process(child);
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let info =
            serde_json::from_str(&line).with_context(|| format!("sandbox printed {line:?}"))?;
        // Keep reading its summary: a closed pipe would kill it on its next print.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Ok(SandboxProcess {
            info,
            _process: process,
        })
    }

    pub fn get(&self, key: &str) -> String {
        self.info[key].as_str().unwrap_or_default().to_string()
    }

    fn client() -> reqwest::Client {
        // The appliance's control API shares its self-signed certificate.
        reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http client")
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut req = Self::client().request(method, &url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.with_context(|| url.clone())?;
        let status = res.status();
        let text = res.text().await?;
        if !status.is_success() {
            bail!("{url}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn create_ticket(&self, subject: &str) -> Result<u64> {
        let url = format!("{}/tickets", self.get("zendesk_control_url"));
        let answer = self
            .call(
                reqwest::Method::POST,
                url,
                Some(json!({ "subject": subject })),
            )
            .await?;
        answer["id"]
            .as_u64()
            .ok_or_else(|| anyhow!("no ticket id in {answer}"))
    }

    /// Creates and ends a scripted session; returns its lsid.
    pub async fn run_session(&self, spec: Value) -> Result<String> {
        let control = self.get("appliance_control_url");
        let answer = self
            .call(
                reqwest::Method::POST,
                format!("{control}/sessions"),
                Some(spec),
            )
            .await?;
        let lsid = answer["lsid"]
            .as_str()
            .ok_or_else(|| anyhow!("no lsid in {answer}"))?
            .to_string();
        self.call(
            reqwest::Method::POST,
            format!("{control}/sessions/{lsid}/end"),
            None,
        )
        .await?;
        Ok(lsid)
    }

    pub async fn comments(&self, ticket: u64) -> Result<Vec<Value>> {
        let url = format!("{}/tickets/{ticket}", self.get("zendesk_control_url"));
        let answer = self.call(reqwest::Method::GET, url, None).await?;
        let ticket = answer.get("ticket").unwrap_or(&answer);
        Ok(ticket["comments"].as_array().cloned().unwrap_or_default())
    }

    /// Every ticket with its comments.
    pub async fn tickets(&self) -> Result<Vec<Value>> {
        let url = format!("{}/tickets", self.get("zendesk_control_url"));
        let answer = self.call(reqwest::Method::GET, url, None).await?;
        Ok(answer["tickets"].as_array().cloned().unwrap_or_default())
    }

    /// Every request the Zendesk simulator answered (method, path, status...).
    pub async fn zendesk_requests(&self) -> Result<Vec<Value>> {
        let url = format!("{}/requests", self.get("zendesk_control_url"));
        let answer = self.call(reqwest::Method::GET, url, None).await?;
        Ok(answer["requests"].as_array().cloned().unwrap_or_default())
    }

    pub async fn faults(&self, server: &str, plan: Value) -> Result<()> {
        let url = format!("{}/faults", self.get(&format!("{server}_control_url")));
        self.call(reqwest::Method::POST, url, Some(plan))
            .await
            .map(drop)
    }

    pub async fn delivered_events(&self) -> Result<usize> {
        let url = format!("{}/events", self.get("appliance_control_url"));
        let answer = self.call(reqwest::Method::GET, url, None).await?;
        Ok(answer["delivered"].as_array().map_or(0, Vec::len))
    }
}

/// A `middleware serve` process with a configuration for the sandbox, in its own folder.
pub struct MiddlewareProcess {
    pub events_port: u16,
    pub dir: PathBuf,
    process: Option<Process>,
    secret: String,
    token: String,
}

impl MiddlewareProcess {
    pub fn configure(sandbox: &SandboxProcess, events_port: u16) -> Result<Self> {
        Self::configure_with(sandbox, events_port, None, "")
    }

    /// `database_url`: `None` for a SQLite file in the process's folder. `extra` is appended
    /// to the file (keys for `[configuration.zendesk]`, then any further tables).
    pub fn configure_with(
        sandbox: &SandboxProcess,
        events_port: u16,
        database_url: Option<&str>,
        extra: &str,
    ) -> Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("rsz-e2e-{}-{events_port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let db = match database_url {
            Some(url) => url.to_string(),
            None => format!("sqlite://{}?mode=rwc", dir.join("middleware.db").display()),
        };
        let config = format!(
            r#"[server]
events_listen = "127.0.0.1:{events_port}"
admin_listen = "127.0.0.1:{admin}"
database_url = "{db}"

[[configuration]]
name = "E2E"
appliance_id = "default"
[configuration.beyondtrust]
host = "{host}"
client_id = "{client_id}"
client_secret_env = "E2E_BT_SECRET"
allow_invalid_certificates = true
[configuration.zendesk]
url = "{zendesk}"
username = "{email}"
token_env = "E2E_ZENDESK_TOKEN"
{extra}
"#,
            admin = free_port()?,
            host = sandbox.get("appliance_host"),
            client_id = sandbox.get("client_id"),
            zendesk = sandbox.get("zendesk_url"),
            email = sandbox.get("zendesk_email"),
        );
        std::fs::write(dir.join("middleware.toml"), config)?;
        Ok(MiddlewareProcess {
            events_port,
            dir,
            process: None,
            secret: sandbox.get("client_secret"),
            token: sandbox.get("zendesk_token"),
        })
    }

    pub fn start(&mut self) -> Result<()> {
        let child = Command::new(binary("middleware")?)
            .arg("serve")
            .arg("--config")
            .arg(self.dir.join("middleware.toml"))
            .env("E2E_BT_SECRET", &self.secret)
            .env("E2E_ZENDESK_TOKEN", &self.token)
            .env("MIDDLEWARE_ADMIN_PASSWORD", "e2e-admin-password")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(self.dir.join("stdout.log"))?)
            .stderr(std::fs::File::create(self.dir.join("stderr.log"))?)
            .spawn()
            .context("starting middleware serve")?;
        self.process = Some(Process(child));
        Ok(())
    }

    /// SIGKILL: a crash, with no chance to finish or release anything.
    pub fn kill(&mut self) {
        self.process = None;
    }

    pub fn logs(&self) -> String {
        ["stdout.log", "stderr.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for MiddlewareProcess {
    fn drop(&mut self) {
        self.process = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls `probe` until it returns `Some`, at most `limit`. Processes on the other side of a
/// socket give no completion signal to await, so a bounded poll is the honest way to wait.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
