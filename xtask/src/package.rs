//! `cargo xtask package` and `cargo xtask validate`: release wasm build -> wasm-bindgen ->
//! wasm-opt -> dist/app/ -> dist/remote-support-for-zendesk-<version>.zip, then the validator.
use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use xtask::sizes::{human, Sizes};
use xtask::validate::{self, Report};

use crate::process;
use crate::workspace::Workspace;

const CRATE: &str = "zendesk-app";
const OUT_NAME: &str = "zendesk_app";
/// The wasm features current rustc emits by default; wasm-opt must be told to keep them.
const WASM_OPT_FLAGS: &[&str] = &[
    "-Oz",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The package failed validation (as opposed to failing to build).
#[derive(Debug, thiserror::Error)]
#[error("{errors} validation error(s) in {path}")]
pub struct ValidationFailed {
    pub errors: usize,
    pub path: PathBuf,
}

/// The optimised wasm and its JS glue.
struct Built {
    js: PathBuf,
    wasm: PathBuf,
}

pub fn run(ws: &Workspace) -> Result<()> {
    run_for(ws, None)
}

/// `cargo xtask package [--appliance-host HOST]`.
pub fn run_for(ws: &Workspace, appliance_host: Option<&str>) -> Result<()> {
    if let Some(host) = appliance_host {
        // Checked before the (slow) build.
        xtask::appliance_host::domain(host)?;
    }
    let built = build(ws)?;
    let zip = assemble(ws, &built, appliance_host)?;
    print_sizes(&built, &zip)?;
    let report = validate::validate_path(&zip)?;
    print_report(&zip, &report);
    if !report.is_ok() {
        return Err(ValidationFailed {
            errors: report.errors().count(),
            path: zip,
        }
        .into());
    }
    Ok(())
}

/// `cargo xtask validate [DIR|ZIP]`.
pub fn validate_cmd(ws: &Workspace, path: Option<PathBuf>) -> Result<ExitCode> {
    let path = path.unwrap_or_else(|| ws.dist_app());
    let report = validate::validate_path(&path)?;
    print_report(&path, &report);
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(path: &Path, report: &Report) {
    for finding in report.warnings() {
        println!("warning: {finding}");
    }
    for finding in report.errors() {
        println!("error: {finding}");
    }
    let errors = report.errors().count();
    let warnings = report.warnings().count();
    if errors == 0 {
        println!(
            "validate: {} is a valid Zendesk app package ({warnings} warning(s))",
            path.display()
        );
    } else {
        println!(
            "validate: {} has {errors} error(s) and {warnings} warning(s)",
            path.display()
        );
    }
}

/// Release build, then wasm-bindgen and wasm-opt (skipped when the build's output, the tools and
/// the flags are all unchanged since the last run).
fn build(ws: &Workspace) -> Result<Built> {
    let start = Instant::now();
    process::run(ws.cargo().args([
        "build",
        "-p",
        CRATE,
        "--target",
        "wasm32-unknown-unknown",
        // Size-optimised, panic = abort (the root Cargo.toml); servers keep `release`.
        "--profile",
        "wasm-release",
    ]))?;
    println!(
        "package: cargo build took {:.1}s",
        start.elapsed().as_secs_f64()
    );
    let raw = ws
        .target_dir
        .join("wasm32-unknown-unknown/wasm-release")
        .join(format!("{OUT_NAME}.wasm"));
    let out_dir = ws.xtask_dir().join("pkg");
    let built = Built {
        js: out_dir.join(format!("{OUT_NAME}.js")),
        wasm: out_dir.join(format!("{OUT_NAME}_bg.wasm")),
    };
    let wasm_opt = ws.root.join("node_modules/.bin/wasm-opt");

    let bindgen_version = process::version_of("wasm-bindgen", &["--version"]).unwrap_or_default();
    let mut hasher = DefaultHasher::new();
    fs::read(&raw)
        .with_context(|| format!("reading {}", raw.display()))?
        .hash(&mut hasher);
    (
        bindgen_version,
        WASM_OPT_FLAGS,
        process::version_of(&wasm_opt.to_string_lossy(), &["--version"]),
    )
        .hash(&mut hasher);
    let stamp = format!("{:016x}\n", hasher.finish());
    let stamp_path = out_dir.join("inputs.stamp");
    if fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str())
        && built.js.exists()
        && built.wasm.exists()
    {
        println!(
            "package: wasm unchanged since the last run; reusing wasm-bindgen and wasm-opt output"
        );
        return Ok(built);
    }

    let _ = fs::remove_dir_all(&out_dir);
    fs::create_dir_all(&out_dir)?;
    let start = Instant::now();
    process::run(
        Command::new("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--out-name",
                OUT_NAME,
                "--no-typescript",
                "--out-dir",
            ])
            .arg(&out_dir)
            .arg(&raw),
    )
    .context("wasm-bindgen failed (run `cargo xtask setup`)")?;
    println!(
        "package: wasm-bindgen took {:.1}s",
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let unoptimised = out_dir.join(format!("{OUT_NAME}_bg.unopt.wasm"));
    fs::rename(&built.wasm, &unoptimised)?;
    process::run(
        Command::new(&wasm_opt)
            .args(WASM_OPT_FLAGS)
            .arg(&unoptimised)
            .arg("-o")
            .arg(&built.wasm),
    )
    .context("wasm-opt failed (run `cargo xtask setup`)")?;
    fs::remove_file(&unoptimised)?;
    println!(
        "package: wasm-opt took {:.1}s",
        start.elapsed().as_secs_f64()
    );
    fs::write(&stamp_path, stamp)?;
    Ok(built)
}

/// dist/app/ (manifest.json, translations/*.json, assets/* plus the wasm and its glue) and the
/// zip of it. Returns the zip's path.
fn assemble(ws: &Workspace, built: &Built, appliance_host: Option<&str>) -> Result<PathBuf> {
    let app = ws.dist_app();
    if app.exists() {
        fs::remove_dir_all(&app).with_context(|| format!("removing {}", app.display()))?;
    }
    fs::create_dir_all(app.join("assets"))?;
    fs::create_dir_all(app.join("translations"))?;
    copy(&ws.root.join("manifest.json"), &app.join("manifest.json"))?;
    if let Some(host) = appliance_host {
        let manifest = fs::read_to_string(app.join("manifest.json"))?;
        let manifest = xtask::appliance_host::with_whitelisted(&manifest, host)?;
        fs::write(app.join("manifest.json"), manifest)?;
        println!(
            "package: domainWhitelist includes {}",
            xtask::appliance_host::domain(host)?
        );
    }
    for (folder, only_json) in [("translations", true), ("assets", false)] {
        for entry in
            fs::read_dir(ws.root.join(folder)).with_context(|| format!("reading {folder}/"))?
        {
            let entry = entry?;
            let name = entry.file_name();
            let is_json = Path::new(&name).extension().is_some_and(|e| e == "json");
            if entry.file_type()?.is_file() && (is_json || !only_json) {
                copy(&entry.path(), &app.join(folder).join(&name))?;
            }
        }
    }
    copy(
        &built.js,
        &app.join("assets").join(format!("{OUT_NAME}.js")),
    )?;
    copy(
        &built.wasm,
        &app.join("assets").join(format!("{OUT_NAME}_bg.wasm")),
    )?;

    let zip = ws.zip_path()?;
    let bytes = xtask::archive::zip_dir(&app)?;
    fs::write(&zip, bytes).with_context(|| format!("writing {}", zip.display()))?;
    println!("package: {} -> {}", app.display(), zip.display());
    Ok(zip)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn print_sizes(built: &Built, zip: &Path) -> Result<()> {
    let wasm = Sizes::of(&fs::read(&built.wasm)?);
    let js = Sizes::of(&fs::read(&built.js)?);
    let zip_raw = fs::metadata(zip)?.len();
    println!("package: sizes          raw        gzip");
    for (what, s) in [("wasm", wasm), ("js glue", js)] {
        println!(
            "package:   {what:<10} {:>10}  {:>10}",
            human(s.raw),
            human(s.gzip)
        );
    }
    println!(
        "package:   {:<10} {:>10}  {:>10}",
        "wasm+glue",
        human(wasm.raw + js.raw),
        human(wasm.gzip + js.gzip)
    );
    println!("package:   {:<10} {:>10}", "zip", human(zip_raw));
    Ok(())
}

/// Sizes of the packaged wasm and glue in dist/app (for `bench`).
pub fn packaged_sizes(ws: &Workspace) -> Result<(Sizes, Sizes)> {
    let assets = ws.dist_app().join("assets");
    let read = |name: String| {
        fs::read(assets.join(&name)).with_context(|| format!("reading dist/app/assets/{name}"))
    };
    let wasm = Sizes::of(&read(format!("{OUT_NAME}_bg.wasm"))?);
    let js = Sizes::of(&read(format!("{OUT_NAME}.js"))?);
    if wasm.raw == 0 {
        bail!("dist/app/assets/{OUT_NAME}_bg.wasm is empty");
    }
    Ok((wasm, js))
}
