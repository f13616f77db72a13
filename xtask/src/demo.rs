//! `cargo xtask demo`: runs the product locally. Filled in by a later issue; until then it says
//! what it will do and fails, so nobody mistakes it for working.
use std::process::ExitCode;

use anyhow::Result;

use crate::workspace::Workspace;

/// Whether `demo --check` works yet; `cargo xtask test` skips its demo step until it does. The
/// issue that implements the demo sets this to true.
pub const IMPLEMENTED: bool = false;

#[derive(clap::Args)]
pub struct Args {
    /// Start everything, check that it works end to end, stop (used by `cargo xtask test`).
    #[arg(long)]
    pub check: bool,
}

pub fn run(_ws: &Workspace, args: Args) -> Result<ExitCode> {
    let mode = if args.check { "demo --check" } else { "demo" };
    println!("cargo xtask {mode} is not implemented yet. When it is, it will:");
    println!("  1. package the Zendesk app (cargo xtask package);");
    println!("  2. start the sandbox: a simulated BeyondTrust appliance and a simulated Zendesk instance on 127.0.0.1;");
    println!("  3. start the middleware against them;");
    println!("  4. serve the packaged app in the simulated Zendesk ticket sidebar and print the URLs to open;");
    if args.check {
        println!("  5. drive one session end to end, check the ticket got its report, and stop.");
    }
    Ok(ExitCode::from(2))
}
