//! Where things are: the repository root, cargo's target directory (honouring
//! CARGO_TARGET_DIR and config), dist/, and versions read from the repository's files.
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context, Result};
use serde_json::Value;

pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
}

impl Workspace {
    pub fn locate() -> Result<Workspace> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or_else(|| anyhow!("xtask has no parent folder"))?
            .to_path_buf();
        let target_dir = target_dir(&root)?;
        Ok(Workspace { root, target_dir })
    }

    /// The cargo that runs us (cargo sets $CARGO for `cargo run`), else `cargo` from PATH.
    pub fn cargo(&self) -> Command {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.current_dir(&self.root);
        cmd
    }

    pub fn dist(&self) -> PathBuf {
        self.root.join("dist")
    }

    pub fn dist_app(&self) -> PathBuf {
        self.dist().join("app")
    }

    /// Scratch space of xtask itself inside the target directory.
    pub fn xtask_dir(&self) -> PathBuf {
        self.target_dir.join("xtask")
    }

    /// The app version from manifest.json.
    pub fn app_version(&self) -> Result<String> {
        let path = self.root.join("manifest.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let manifest: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        manifest["version"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("{}: no \"version\" string", path.display()))
    }

    /// The version of `package` pinned in Cargo.lock.
    pub fn locked_version(&self, package: &str) -> Result<String> {
        let lock =
            std::fs::read_to_string(self.root.join("Cargo.lock")).context("reading Cargo.lock")?;
        xtask::lockfile::locked_version(&lock, package)
            .ok_or_else(|| anyhow!("Cargo.lock does not list {package}"))
    }

    pub fn zip_path(&self) -> Result<PathBuf> {
        Ok(self.dist().join(format!(
            "remote-support-for-zendesk-{}.zip",
            self.app_version()?
        )))
    }
}

/// cargo's target directory as cargo itself resolves it (CARGO_TARGET_DIR, config, default).
fn target_dir(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        return Err(anyhow!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: Value = serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("cargo metadata has no target_directory"))
}
