//! `cargo xtask <task>`: the project's build, package, validate, test, demo and bench commands.
mod bench;
mod bench_ops;
mod demo;
mod package;
mod process;
mod scratch;
mod setup;
mod suite;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use workspace::Workspace;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, package, validate, test, demo and bench Remote Support for Zendesk"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what is missing: the wasm target, wasm-bindgen-cli, npm tools, chromium.
    Setup,
    /// Build the wasm app and package it as dist/remote-support-for-zendesk-<version>.zip.
    Package {
        /// The BeyondTrust appliance's host, written into the manifest's domainWhitelist
        /// (needed for session keys in the sidebar: Zendesk's proxy only calls listed domains).
        #[arg(long, value_name = "HOST")]
        appliance_host: Option<String>,
    },
    /// Check an app folder or zip against Zendesk's validation rules (default: dist/app).
    Validate {
        /// An app folder or a .zip file.
        path: Option<PathBuf>,
    },
    /// Run every test: setup, workspace tests, wasm tests in chromium, package + validate,
    /// browser tests.
    Test,
    /// Run the product locally against the simulators.
    Demo(demo::Args),
    /// Measure the app's size and render time against the budgets.
    Bench,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Workspace::locate().and_then(|ws| match cli.command {
        Command::Setup => setup::run(&ws).map(|_| ExitCode::SUCCESS),
        Command::Package { appliance_host } => {
            package::run_for(&ws, appliance_host.as_deref()).map(|_| ExitCode::SUCCESS)
        }
        Command::Validate { path } => package::validate_cmd(&ws, path),
        Command::Test => suite::run(&ws),
        Command::Demo(args) => demo::run(&ws, args),
        Command::Bench => bench::run(&ws),
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
