//! The middleware: BeyondTrust outbound events in, Zendesk private comments out.
//!
//! `middleware serve --config middleware.toml` runs the listener and workers;
//! `middleware check --config middleware.toml` tests every configuration and exits non-zero
//! naming what failed; `middleware config export` prints the database's configurations as TOML.
//! `MIDDLEWARE_CONFIG` may replace `--config`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use middleware::config::{self, Config};
use middleware::settings::LogFormat;

#[derive(Parser)]
#[command(
    name = "middleware",
    version,
    about = "BeyondTrust Remote Support session reports into Zendesk tickets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive outbound events and post session reports to Zendesk.
    Serve {
        /// Configuration file (TOML).
        #[arg(long, env = "MIDDLEWARE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Test every configuration: appliance token and permissions, Zendesk credentials.
    Check {
        #[arg(long, env = "MIDDLEWARE_CONFIG")]
        config: PathBuf,
    },
    /// The configurations kept in the database.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// GET a URL (e.g. http://127.0.0.1:8180/readyz) and exit 0 on a 2xx answer: a container
    /// health check that needs no curl in the image.
    Probe { url: String },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Print the database's configurations as TOML `[[configuration]]` sections (secrets omitted).
    Export {
        /// Configuration file naming the database (`[server] database_url`).
        #[arg(long, env = "MIDDLEWARE_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// Logs go to stdout: JSON lines when `[operations] log_format = "json"` (or
/// `MIDDLEWARE_LOG_FORMAT=json`), otherwise text, coloured only when stdout is a terminal (a
/// journal or a log file gets no escape codes).
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,hyper=warn,reqwest=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
    }
}

/// The log format chosen by the environment or the configuration file (read again, with its
/// errors reported, once logging is set up).
fn log_format(cli: &Cli) -> LogFormat {
    match std::env::var("MIDDLEWARE_LOG_FORMAT").ok().as_deref() {
        Some("json") => return LogFormat::Json,
        Some("text") => return LogFormat::Text,
        _ => {}
    }
    let path = match &cli.command {
        Command::Serve { config } => config.as_ref(),
        Command::Check { config } => Some(config),
        Command::Config {
            action: ConfigAction::Export { config },
        } => config.as_ref(),
        Command::Probe { .. } => None,
    };
    path.and_then(|p| config::load(p).ok())
        .map_or(LogFormat::Text, |c| c.operations.log_format)
}

const HOW_TO_CONFIGURE: &str = "no configuration file given: using the default database; add configurations in the admin, \
or create a TOML file with a [[configuration]] section (appliance_id, [configuration.beyondtrust] host and credentials, \
[configuration.zendesk] url/username/token) and start with `middleware serve --config FILE` or MIDDLEWARE_CONFIG=FILE";

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

async fn serve(path: Option<PathBuf>) -> anyhow::Result<()> {
    let config = match &path {
        Some(p) => config::load(p)?,
        None => {
            tracing::warn!("{HOW_TO_CONFIGURE}");
            Config::default()
        }
    };
    middleware::run(config, shutdown_signal())
        .await
        .context("middleware stopped with an error")
}

/// The configurations in effect: the database's once the file was imported there (the
/// database is authoritative from then on), else the file's. `Err` lines name stored
/// configurations that no longer validate.
async fn configurations_to_check(
    config: &Config,
) -> anyhow::Result<(String, Vec<Result<config::Configuration, (String, String)>>)> {
    let url = &config.server.database_url;
    let sqlite_file = url
        .strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or(rest).to_string());
    // Never create a database just to look into it.
    let exists = sqlite_file
        .as_ref()
        .is_none_or(|f| std::path::Path::new(f).is_file());
    if exists {
        let store = middleware::store::Store::open_unowned(url)
            .await
            .with_context(|| {
                format!("opening the database {}", config::redact_url_password(url))
            })?;
        let stored = middleware::config_store::ConfigStore::new(&store);
        let imported = stored.generation().await? > 0;
        let (_, all) = stored.load().await?;
        store.close().await;
        if imported {
            return Ok((
                "the database".into(),
                all.into_iter()
                    .map(|s| s.parsed.map_err(|why| (s.name, why)))
                    .collect(),
            ));
        }
    }
    Ok((
        "the file".into(),
        config.configurations.iter().cloned().map(Ok).collect(),
    ))
}

async fn probe(url: &str) -> anyhow::Result<bool> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .danger_accept_invalid_certs(true)
        .build()?;
    let resp = client.get(url).send().await.context("probe")?;
    let status = resp.status();
    println!("{url}: {status}");
    Ok(status.is_success())
}

async fn check(path: PathBuf) -> anyhow::Result<bool> {
    let config = config::load(&path)?;
    let (source, configurations) = configurations_to_check(&config).await?;
    if configurations.is_empty() {
        println!("{}: no configurations to check in {source}", path.display());
        return Ok(false);
    }
    println!(
        "checking the {} configuration(s) in {source}",
        configurations.len()
    );
    let mut all_ok = true;
    let mut valid = Vec::new();
    for c in configurations {
        match c {
            Ok(c) => valid.push(c),
            Err((name, why)) => {
                println!("FAILED {name}: the stored configuration is not valid: {why}");
                all_ok = false;
            }
        }
    }
    for c in &valid {
        let report =
            middleware::check::check_configuration(c, std::time::Duration::from_secs(20)).await;
        for line in &report.passed {
            println!("ok     {}: {line}", c.name);
        }
        for line in &report.failed {
            println!("FAILED {}: {line}", c.name);
        }
        all_ok &= report.ok();
    }
    Ok(all_ok)
}

/// `middleware config export`: the database is authoritative after the first start, so this is
/// how its configurations get back into a file (for review, backup or another installation).
async fn export(path: Option<PathBuf>) -> anyhow::Result<bool> {
    let config = match &path {
        Some(p) => config::load(p)?,
        None => Config::default(),
    };
    let store = middleware::store::Store::open_unowned(&config.server.database_url)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                config::redact_url_password(&config.server.database_url)
            )
        })?;
    let (_, stored) = middleware::config_store::ConfigStore::new(&store)
        .load()
        .await?;
    print!("{}", middleware::config_store::export_toml(&stored));
    store.close().await;
    Ok(true)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(log_format(&cli));
    // Read while this is the only thread: the admin shows times in the machine's zone.
    if let Ok(offset) = time::UtcOffset::current_local_offset() {
        middleware::admin::view::set_local_offset(offset);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("middleware: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { config } => serve(config).await.map(|_| true),
            Command::Check { config } => check(config).await,
            Command::Config {
                action: ConfigAction::Export { config },
            } => export(config).await,
            Command::Probe { url } => probe(&url).await,
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("middleware: {e:#}");
            ExitCode::FAILURE
        }
    }
}
