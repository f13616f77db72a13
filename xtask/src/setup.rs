//! `cargo xtask setup`: installs what a fresh machine lacks, and nothing else (idempotent).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::process::{self, version_of};
use crate::scratch::Scratch;
use crate::workspace::Workspace;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian's `postgresql` package puts each major version's server binaries.
const POSTGRES_LIB: &str = "/usr/lib/postgresql";

pub fn run(ws: &Workspace) -> Result<()> {
    let mut installed: Vec<(String, Duration)> = Vec::new();
    let mut timed = |what: String, f: &dyn Fn() -> Result<()>| -> Result<()> {
        let start = Instant::now();
        f()?;
        installed.push((what, start.elapsed()));
        Ok(())
    };
    if !wasm_target_installed()? {
        timed(format!("rust target {WASM_TARGET}"), &|| {
            process::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
        })?;
    }
    let bindgen = ws.locked_version("wasm-bindgen")?;
    if !wasm_bindgen_matches(&bindgen) {
        timed(format!("wasm-bindgen-cli {bindgen}"), &|| {
            install_wasm_bindgen(ws, &bindgen)
        })?;
    }
    if let Some(reason) = npm_stale(&ws.root)? {
        timed(format!("npm packages ({reason})"), &|| npm_ci(ws))?;
    }
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        timed("chromium and chromium-driver".into(), &install_chromium)?;
    }
    if postgres_bin_dir().is_none() {
        // Only the middleware's Postgres tests need it: without it they are skipped (and the
        // test run says so), which is no reason to fail the whole setup.
        if let Err(e) = timed("postgresql".into(), &install_postgres) {
            println!(
                "setup: could not install postgresql ({e:#}); the Postgres tests will be skipped"
            );
        }
    }
    if installed.is_empty() {
        println!("setup: nothing to install");
    }
    for (what, took) in &installed {
        println!("setup: installed {what} in {:.1}s", took.as_secs_f64());
    }
    Ok(())
}

fn wasm_target_installed() -> Result<bool> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (install it from https://rustup.rs)")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET))
}

/// Both binaries of wasm-bindgen-cli must be exactly the version the crate is locked at.
fn wasm_bindgen_matches(version: &str) -> bool {
    ["wasm-bindgen", "wasm-bindgen-test-runner"]
        .iter()
        .all(|tool| {
            version_of(tool, &["--version"]).as_deref()
                == Some(format!("{tool} {version}").as_str())
        })
}

/// `--locked` first (the versions wasm-bindgen was released with); its lockfile can name a crate
/// version the registry mirror lacks, so fall back to a fresh resolution.
fn install_wasm_bindgen(ws: &Workspace, version: &str) -> Result<()> {
    let install = |locked: bool| {
        let mut cmd = ws.cargo();
        cmd.args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={version}"),
            "--force",
        ]);
        if locked {
            cmd.arg("--locked");
        }
        process::run(&mut cmd)
    };
    install(true).or_else(|e| {
        println!("setup: `cargo install --locked` failed ({e:#}); retrying without --locked");
        install(false)
    })
}

/// Why node_modules must be (re)installed, or None if every package in package-lock.json is
/// installed at its locked version.
fn npm_stale(root: &Path) -> Result<Option<String>> {
    let lock_path = root.join("package-lock.json");
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(&lock_path).context("reading package-lock.json")?,
    )
    .context("parsing package-lock.json")?;
    let locked: BTreeMap<&str, &str> = lock["packages"]
        .as_object()
        .map(|p| {
            p.iter()
                .filter(|(k, _)| k.starts_with("node_modules/"))
                .filter_map(|(k, v)| Some((k.as_str(), v["version"].as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    if !root.join("node_modules").is_dir() {
        return Ok(Some("node_modules is missing".into()));
    }
    for (path, version) in locked {
        let installed = std::fs::read_to_string(root.join(path).join("package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["version"].as_str().map(str::to_string));
        if installed.as_deref() != Some(version) {
            return Ok(Some(format!("{path} is not at {version}")));
        }
    }
    Ok(None)
}

/// `npm ci` with its cache and HOME in a scratch folder; the user's npmrc (registry, proxy) still
/// applies.
fn npm_ci(ws: &Workspace) -> Result<()> {
    let scratch = Scratch::new(&ws.root, "npm")?;
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&ws.root)
        .env("HOME", scratch.home())
        .env("TMPDIR", scratch.tmp())
        .env("npm_config_cache", scratch.path().join("npm-cache"));
    if let Some(home) = std::env::var_os("HOME") {
        let userconfig = Path::new(&home).join(".npmrc");
        if userconfig.exists() {
            cmd.env("npm_config_userconfig", userconfig);
        }
    }
    process::run(&mut cmd)
}

pub fn is_root() -> bool {
    version_of("id", &["-u"]).as_deref() == Some("0")
}

/// `apt-get ARGS`, through sudo unless we are root.
fn apt(args: &[&str]) -> Result<()> {
    let mut cmd = if is_root() {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("apt-get");
        sudo
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    process::run(&mut cmd)
}

/// The newest Debian PostgreSQL server binaries (`/usr/lib/postgresql/VERSION/bin` with `pg_ctl`
/// and `initdb`), if installed.
pub fn postgres_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(POSTGRES_LIB)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("pg_ctl").is_file() && bin.join("initdb").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// `apt-get install postgresql`; the package lists are refreshed only when that fails.
fn install_postgres() -> Result<()> {
    let install = || apt(&["install", "-y", "--no-install-recommends", "postgresql"]);
    install().or_else(|e| {
        println!("setup: installing postgresql failed ({e:#}); refreshing package lists");
        apt(&["update"])?;
        install()
    })?;
    if postgres_bin_dir().is_none() {
        bail!("apt-get installed postgresql but no {POSTGRES_LIB}/*/bin/pg_ctl exists");
    }
    Ok(())
}

fn install_chromium() -> Result<()> {
    apt(&["update"])?;
    apt(&[
        "install",
        "-y",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ])?;
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        bail!("apt-get installed chromium but {CHROMIUM} or {CHROMEDRIVER} is still missing");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_modules_are_stale_when_missing_or_at_another_version() {
        let root = std::env::temp_dir().join(format!("xtask-npm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let lock = r#"{"packages": {"": {}, "node_modules/binaryen": {"version": "132.0.0"}}}"#;
        std::fs::write(root.join("package-lock.json"), lock).unwrap();
        assert_eq!(
            npm_stale(&root).unwrap().as_deref(),
            Some("node_modules is missing")
        );

        let pkg = root.join("node_modules/binaryen");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("package.json"), r#"{"version": "131.0.0"}"#).unwrap();
        assert_eq!(
            npm_stale(&root).unwrap().as_deref(),
            Some("node_modules/binaryen is not at 132.0.0")
        );

        std::fs::write(pkg.join("package.json"), r#"{"version": "132.0.0"}"#).unwrap();
        assert_eq!(npm_stale(&root).unwrap(), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
