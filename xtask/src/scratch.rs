//! A throw-away folder for HOME/TMPDIR of browsers and npm, so test runs leave nothing behind in
//! the user's home. Removed when dropped.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// `<repo>/.scratch/<name>-<pid>` with `home/` and `tmp/` inside.
    pub fn new(root: &Path, name: &str) -> Result<Scratch> {
        let path = root
            .join(".scratch")
            .join(format!("{name}-{}", std::process::id()));
        for sub in ["home", "tmp"] {
            std::fs::create_dir_all(path.join(sub))
                .with_context(|| format!("creating {}", path.display()))?;
        }
        Ok(Scratch { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn home(&self) -> PathBuf {
        self.path.join("home")
    }

    pub fn tmp(&self) -> PathBuf {
        self.path.join("tmp")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        // Removes `.scratch` itself only when no other run is using it.
        if let Some(parent) = self.path.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// The user's real cargo and rustup homes, to pin before pointing HOME elsewhere.
pub fn tool_homes() -> Vec<(&'static str, PathBuf)> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let pick = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(default))
    };
    vec![
        ("CARGO_HOME", pick("CARGO_HOME", ".cargo")),
        ("RUSTUP_HOME", pick("RUSTUP_HOME", ".rustup")),
    ]
}
