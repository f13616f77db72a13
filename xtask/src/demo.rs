//! `cargo xtask demo`: the whole product on one machine, against the simulators.
//!
//! It packages the app, builds the sandbox and the middleware, then starts
//! 1. `sandbox serve`: the simulated BeyondTrust appliance and Zendesk, plus the agent workspace
//!    (a ticket page with the packaged sidebar app in an iframe) and a Help Center request page;
//! 2. `middleware serve` configured against them (SQLite under the demo folder, events on 8180,
//!    admin on 53231), its secrets handed over in the environment, never in a file.
//!
//! `--check` runs the same thing on free ports, drives the visitor's flow headless
//! (`tests/demo/check.mjs`) and exits 0 only when the session's comments reached the ticket.
//! Ctrl-C (or any child dying) stops every process the demo started.
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::scratch::Scratch;
use crate::workspace::Workspace;
use crate::{package, process, setup, suite};

/// `cargo xtask test` runs `demo --check` once this is true.
pub const IMPLEMENTED: bool = true;

const EVENTS_PORT: u16 = 8180;
const ADMIN_PORT: u16 = 53231;
const WORKSPACE_PORT: u16 = 8080;
/// Fixed so that a certificate accepted once in the browser stays accepted across runs.
const APPLIANCE_PORT: u16 = 8443;
/// How long the middleware may take to answer its health check after start.
const READY_LIMIT: Duration = Duration::from_secs(60);
/// How long the headless visitor may take.
const CHECK_LIMIT: Duration = Duration::from_secs(300);

#[derive(clap::Args)]
pub struct Args {
    /// Start everything on free ports, check that it works end to end headless, stop (used by
    /// `cargo xtask test`).
    #[arg(long)]
    pub check: bool,
}

/// The demo's ports: fixed for people, free ones for `--check` (a running demo must not make
/// the test suite fail).
struct Ports {
    events: u16,
    admin: u16,
    workspace: u16,
    /// 0: any free port.
    appliance: u16,
}

pub fn run(ws: &Workspace, args: Args) -> Result<ExitCode> {
    setup::run(ws)?;
    package::run(ws)?;
    let mut build = ws.cargo();
    build.args(["build", "--quiet", "-p", "sandbox", "-p", "middleware"]);
    process::run(&mut build)?;

    let ports = if args.check {
        Ports {
            events: free_port()?,
            admin: free_port()?,
            workspace: free_port()?,
            appliance: 0,
        }
    } else {
        let fixed = [
            (EVENTS_PORT, "events"),
            (ADMIN_PORT, "admin"),
            (WORKSPACE_PORT, "agent workspace"),
            (APPLIANCE_PORT, "appliance"),
        ];
        for (port, what) in fixed {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                bail!("port {port} ({what}) is already in use: is another demo running? Stop it first.");
            }
        }
        Ports {
            events: EVENTS_PORT,
            admin: ADMIN_PORT,
            workspace: WORKSPACE_PORT,
            appliance: APPLIANCE_PORT,
        }
    };
    let dir = ws
        .target_dir
        .join(if args.check { "demo-check" } else { "demo" });
    // The simulators start empty each time, so the middleware's database does too.
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;

    let mut demo = Demo::default();
    let result = start_and_run(ws, &args, &ports, &dir, &stop, &mut demo);
    demo.stop_all();
    if args.check {
        let _ = fs::remove_dir_all(&dir);
    }
    result
}

fn start_and_run(
    ws: &Workspace,
    args: &Args,
    ports: &Ports,
    dir: &Path,
    stop: &AtomicBool,
    demo: &mut Demo,
) -> Result<ExitCode> {
    let bin = ws.target_dir.join("debug");
    let sandbox = demo.start_sandbox(&bin.join("sandbox"), ws, ports, dir)?;
    let password = random_hex(12)?;
    let config = dir.join("middleware.toml");
    fs::write(&config, middleware_config(&sandbox, ports, dir))
        .with_context(|| format!("writing {}", config.display()))?;
    demo.start_middleware(&bin.join("middleware"), &config, &sandbox, &password, dir)?;
    wait_ready(ports.events, demo, stop)?;

    let workspace = sandbox.str("workspace_url")?;
    let ticket = sandbox.0["demo_ticket"]
        .as_u64()
        .ok_or_else(|| anyhow!("sandbox did not say its demo ticket"))?;
    if args.check {
        return check(ws, workspace, ticket, demo);
    }
    print_block(
        workspace,
        ticket,
        ports,
        &password,
        sandbox.str("appliance_url")?,
        dir,
    );
    demo.wait_until_stopped(stop)
}

/// The JSON line `sandbox serve` prints: URLs and the sandbox's own credentials.
struct SandboxInfo(Value);

impl SandboxInfo {
    fn str(&self, key: &str) -> Result<&str> {
        self.0[key]
            .as_str()
            .ok_or_else(|| anyhow!("sandbox serve did not print {key}"))
    }
}

/// The middleware's configuration for the sandbox. Secrets are not in it: they come from the
/// environment (`*_env` keys), so the file can be shown to anyone.
fn middleware_config(sandbox: &SandboxInfo, ports: &Ports, dir: &Path) -> String {
    let db = dir.join("middleware.db");
    let value = |key: &str| sandbox.0[key].as_str().unwrap_or_default().to_string();
    format!(
        r#"# Written by `cargo xtask demo`: the middleware against the sandbox appliance and Zendesk.
[server]
events_listen = "127.0.0.1:{events}"
admin_listen = "127.0.0.1:{admin}"
database_url = "sqlite://{db}?mode=rwc"

[[configuration]]
name = "Sandbox"
appliance_id = "default"
[configuration.beyondtrust]
host = "{host}"
client_id = "{client_id}"
client_secret_env = "RSZ_DEMO_BT_CLIENT_SECRET"
# The sandbox appliance has a self-signed certificate, like a lab appliance.
allow_invalid_certificates = true
[configuration.zendesk]
url = "{zendesk}"
username = "{email}"
token_env = "RSZ_DEMO_ZENDESK_TOKEN"
tags = ["beyondtrust_session"]
"#,
        events = ports.events,
        admin = ports.admin,
        db = db.display(),
        host = value("appliance_host"),
        client_id = value("client_id"),
        zendesk = value("zendesk_url"),
        email = value("zendesk_email"),
    )
}

/// The processes the demo started, each with its log file.
#[derive(Default)]
struct Demo {
    children: Vec<(&'static str, Child, PathBuf)>,
}

impl Demo {
    fn start_sandbox(
        &mut self,
        exe: &Path,
        ws: &Workspace,
        ports: &Ports,
        dir: &Path,
    ) -> Result<SandboxInfo> {
        let log = dir.join("sandbox.log");
        let mut cmd = Command::new(exe);
        cmd.args(["serve", "--workspace-port", &ports.workspace.to_string()])
            .args([
                "--appliance-port",
                &ports.appliance.to_string(),
                "--events-url",
            ])
            .arg(format!("http://127.0.0.1:{}/ERSPost", ports.events))
            .arg("--app-dir")
            .arg(ws.dist_app())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log)?);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("sandbox has no stdout"))?;
        self.children.push(("sandbox", child, log.clone()));
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().transpose()?.ok_or_else(|| {
            anyhow!(
                "sandbox serve exited before printing its URLs; see {}",
                log.display()
            )
        })?;
        let info: Value = serde_json::from_str(&first)
            .with_context(|| format!("sandbox serve printed {first:?}"))?;
        // Keep draining its summary into the log so the pipe never fills.
        let mut file = fs::OpenOptions::new().append(true).open(&log)?;
        thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = writeln!(file, "{line}");
            }
        });
        Ok(SandboxInfo(info))
    }

    fn start_middleware(
        &mut self,
        exe: &Path,
        config: &Path,
        sandbox: &SandboxInfo,
        password: &str,
        dir: &Path,
    ) -> Result<()> {
        let log = dir.join("middleware.log");
        let child = Command::new(exe)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env("RSZ_DEMO_BT_CLIENT_SECRET", sandbox.str("client_secret")?)
            .env("RSZ_DEMO_ZENDESK_TOKEN", sandbox.str("zendesk_token")?)
            .env("MIDDLEWARE_ADMIN_PASSWORD", password)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log)?)
            .stderr(fs::File::create(dir.join("middleware.err.log"))?)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        self.children.push(("middleware", child, log));
        Ok(())
    }

    /// The first child that has exited, with how.
    fn exited(&mut self) -> Option<String> {
        self.children.iter_mut().find_map(|(name, child, log)| {
            child
                .try_wait()
                .ok()
                .flatten()
                .map(|status| format!("{name} stopped ({status}); its log: {}", log.display()))
        })
    }

    fn wait_until_stopped(&mut self, stop: &AtomicBool) -> Result<ExitCode> {
        while !stop.load(Ordering::SeqCst) {
            if let Some(why) = self.exited() {
                bail!("{why}");
            }
            thread::sleep(Duration::from_millis(200));
        }
        println!("\nStopping the demo…");
        Ok(ExitCode::SUCCESS)
    }

    /// SIGTERM to each child (both shut down gracefully on it), then SIGKILL after 10 s.
    fn stop_all(&mut self) {
        for (_, child, _) in &self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (name, child, _) in &mut self.children {
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                thread::sleep(Duration::from_millis(100));
            }
            if matches!(child.try_wait(), Ok(None)) {
                eprintln!("{name} did not stop within 10 s; killing it");
                let _ = child.kill();
            }
            let _ = child.wait();
        }
        self.children.clear();
    }
}

/// Waits for the middleware's `/healthz` on the events port.
fn wait_ready(port: u16, demo: &mut Demo, stop: &AtomicBool) -> Result<()> {
    let deadline = Instant::now() + READY_LIMIT;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        if let Some(why) = demo.exited() {
            bail!("{why}");
        }
        if http_get_ok(port, "/healthz") {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(100));
    }
    bail!("the middleware did not answer on 127.0.0.1:{port}/healthz within {READY_LIMIT:?}")
}

/// One plain HTTP/1.1 GET on loopback; true on a 200 answer.
fn http_get_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

fn check(ws: &Workspace, workspace: &str, ticket: u64, demo: &mut Demo) -> Result<ExitCode> {
    let scratch = Scratch::new(&ws.root, "demo-check")?;
    let mut cmd = Command::new("node");
    cmd.arg("tests/demo/check.mjs")
        .arg(workspace)
        .arg(ticket.to_string())
        .current_dir(&ws.root)
        .envs(suite::browser_env(ws, &scratch));
    let run = process::stream(&mut cmd, CHECK_LIMIT);
    let ok = matches!(&run, Ok(r) if r.status.success());
    if !ok {
        for (name, _, log) in &demo.children {
            let text = fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            println!("--- last lines of the {name} log ({}):", log.display());
            for line in tail.iter().rev() {
                println!("{line}");
            }
        }
    }
    run?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_block(
    workspace: &str,
    ticket: u64,
    ports: &Ports,
    password: &str,
    appliance: &str,
    dir: &Path,
) {
    println!(
        r#"
Remote Support for Zendesk — demo running (Ctrl-C stops everything)

  Agent workspace:   {workspace}/agent/tickets/{ticket}
  Help Center:       {workspace}/hc/en-us/requests/{ticket}
  Middleware admin:  http://127.0.0.1:{admin}/   password: {password}
  Middleware events: http://127.0.0.1:{events}/ERSPost
  Sandbox appliance: {appliance}  (self-signed: open it once and accept the certificate,
                     so the sidebar's launches reach it from your browser)

What to click:
  1. In the ticket's sidebar, Generate Session Key, or pick a Jump type and launch it: the
     "Representative console" panel shows what the console received.
  2. Press End session: the sandbox appliance runs a support session tied to the ticket and
     sends its events to the middleware; three private comments (session report, customer and
     representative surveys) appear in the conversation within seconds.
  3. Open the Help Center page, pick an issue and press Get Support Now.
  4. In the admin, see the events and press Test connection.

Logs: {logs}"#,
        admin = ports.admin,
        events = ports.events,
        logs = dir.display(),
    );
}

/// A port nobody listens on now (the OS picks it; released for the child to bind).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `bytes` random bytes from the OS, as hex.
fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
