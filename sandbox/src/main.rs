//! `sandbox serve`: runs the simulated appliance and Zendesk until interrupted.
//!
//! Prints ONE JSON line with URLs and the sandbox's own generated credentials (intended: it is
//! a test tool and the caller needs them), then a short human summary.

use anyhow::Context;
use clap::{Parser, Subcommand};
use sandbox::{Sandbox, SandboxOptions, XmlNamespace};
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "sandbox",
    about = "Simulated BeyondTrust appliance and Zendesk instance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run both simulators on 127.0.0.1 until Ctrl-C.
    Serve {
        /// Appliance port (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        appliance_port: u16,
        /// Zendesk port (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        zendesk_port: u16,
        /// Where the appliance POSTs outbound events.
        #[arg(long)]
        events_url: Option<String>,
        /// Serve the appliance over plain HTTP instead of HTTPS.
        #[arg(long)]
        plain_http: bool,
        /// Refuse legacy username/password authentication ("16.2.1 or newer").
        #[arg(long)]
        oauth_only: bool,
        /// Answer XML in the older bomgar.com namespaces.
        #[arg(long)]
        bomgar_namespace: bool,
        /// Lifetime of OAuth tokens, in seconds.
        #[arg(long, default_value_t = 3600)]
        token_lifetime_secs: u64,
        /// Zendesk requests allowed per minute.
        #[arg(long, default_value_t = 100)]
        zendesk_rate_limit: u32,
        /// Also serve the agent workspace and Help Center stand-in (the demo) on this port
        /// (0 picks a free one), with the packaged app from --app-dir.
        #[arg(long)]
        workspace_port: Option<u16>,
        /// The packaged Zendesk app (`cargo xtask package` writes dist/app).
        #[arg(long, default_value = "dist/app")]
        app_dir: std::path::PathBuf,
        /// The app's `issues` setting in the workspace (`code=Name` lines).
        #[arg(
            long,
            default_value = "general_tech=General Technical Issues\nprinters=Printers & Scanners\nvpn=VPN « Remote access »"
        )]
        issues: String,
        /// The app's `jumpoints` setting in the workspace (one per line).
        #[arg(long, default_value = "HQ Jumpoint\nLab Jumpoint")]
        jumpoints: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Cli { command } = Cli::parse();
    // Listen for signals before announcing anything: a caller may interrupt right after
    // reading the JSON line.
    let stop = stop_signal().context("installing the signal handlers")?;
    let Command::Serve {
        appliance_port,
        zendesk_port,
        events_url,
        plain_http,
        oauth_only,
        bomgar_namespace,
        token_lifetime_secs,
        zendesk_rate_limit,
        workspace_port,
        app_dir,
        issues,
        jumpoints,
    } = command;
    let sandbox = Sandbox::start(SandboxOptions {
        appliance_port,
        zendesk_port,
        events_url: events_url.clone(),
        appliance_tls: !plain_http,
        oauth_only,
        token_lifetime: std::time::Duration::from_secs(token_lifetime_secs),
        zendesk_rate_limit_per_minute: zendesk_rate_limit,
        xml_namespace: if bomgar_namespace {
            XmlNamespace::Bomgar
        } else {
            XmlNamespace::BeyondTrust
        },
        ..SandboxOptions::default()
    })
    .await
    .context("starting the sandbox")?;
    let (a, z) = (&sandbox.appliance, &sandbox.zendesk);
    let workspace = match workspace_port {
        Some(port) => {
            let options = sandbox::workspace::WorkspaceOptions {
                app_dir,
                issues: issues.replace("\\n", "\n"),
                jumpoints: jumpoints.replace("\\n", "\n"),
            };
            Some(start_workspace(port, a.clone(), z.clone(), options).await?)
        }
        None => None,
    };
    let mut line = json!({
        "appliance_url": a.base_url(),
        "appliance_host": a.host(),
        "client_id": a.client_id(),
        "client_secret": a.client_secret(),
        "legacy_username": a.legacy_username(),
        "legacy_password": a.legacy_password(),
        "zendesk_url": z.base_url(),
        "zendesk_email": z.email(),
        "zendesk_token": z.api_token(),
        "appliance_control_url": a.control_url(),
        "zendesk_control_url": z.control_url(),
    });
    if let Some((url, ticket, _)) = &workspace {
        line["workspace_url"] = json!(url);
        line["demo_ticket"] = json!(ticket);
    }
    println!("{line}");
    println!(
        "BeyondTrust appliance: {} (control: {})",
        a.base_url(),
        a.control_url()
    );
    println!(
        "Zendesk:               {} (control: {})",
        z.base_url(),
        z.control_url()
    );
    println!(
        "Outbound events:       {}",
        events_url
            .as_deref()
            .unwrap_or("held until PUT /_control/events_url")
    );
    if let Some((url, ticket, _)) = &workspace {
        println!("Agent workspace:       {url}/agent/tickets/{ticket}");
        println!("Help Center:           {url}/hc/en-us/requests/{ticket}");
    }
    println!("Press Ctrl-C to stop.");
    stop.await;
    if let Some((_, _, server)) = workspace {
        server.abort();
    }
    sandbox.shutdown().await;
    Ok(())
}

/// Binds the agent workspace on 127.0.0.1:`port`, creates the demo ticket and serves until the
/// returned task is aborted. Returns (base URL, demo ticket id, server task).
async fn start_workspace(
    port: u16,
    appliance: sandbox::Appliance,
    zendesk: sandbox::Zendesk,
    options: sandbox::workspace::WorkspaceOptions,
) -> anyhow::Result<(String, u64, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding the agent workspace on 127.0.0.1:{port}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let ticket = sandbox::workspace::seed_ticket(&zendesk);
    let app = sandbox::workspace::router(appliance, zendesk, options);
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "agent workspace stopped");
        }
    });
    Ok((url, ticket, server))
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
