//! Where the admin password comes from: an environment variable, or a generated one kept in a
//! private file next to the SQLite database (so an operator can read it; never logged).

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::distributions::Alphanumeric;
use rand::Rng;

use crate::config::ServerConfig;
use crate::secret::Secret;

/// The file a generated password is written to.
pub const PASSWORD_FILE: &str = "admin-password";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// Read from this environment variable.
    Env(String),
    /// Read from (or generated into) this file.
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
#[error("admin password file {path}: {source}")]
pub struct PasswordError {
    pub path: String,
    pub source: std::io::Error,
}

/// The directory of the SQLite database file; the working directory for Postgres or in-memory.
pub fn password_file(server: &ServerConfig) -> PathBuf {
    let dir = server
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| server.database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|p| !p.is_empty() && !p.contains(":memory:"))
        .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    dir.join(PASSWORD_FILE)
}

/// The password from `server.admin_password_env`, else the one in the password file (generated
/// with mode 0600 when missing or empty).
pub fn resolve(
    server: &ServerConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Secret, PasswordSource), PasswordError> {
    if let Some(p) = env(&server.admin_password_env).filter(|p| !p.is_empty()) {
        return Ok((
            Secret::new(p),
            PasswordSource::Env(server.admin_password_env.clone()),
        ));
    }
    let path = password_file(server);
    let err = |source| PasswordError {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            return Ok((Secret::new(text.trim()), PasswordSource::File(path)))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let password: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    write_private(&path, &password).map_err(err)?;
    Ok((Secret::new(password), PasswordSource::File(path)))
}

fn write_private(path: &Path, password: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut f = options.open(path)?;
        // An existing (empty) file keeps its old mode on open: tighten it explicitly.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        writeln!(f, "{password}")
    }
    #[cfg(not(unix))]
    {
        let mut f = options.open(path)?;
        writeln!(f, "{password}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(db: &str) -> ServerConfig {
        ServerConfig {
            database_url: db.into(),
            ..ServerConfig::default()
        }
    }

    #[test]
    fn file_sits_next_to_the_sqlite_database() {
        assert_eq!(
            password_file(&server("sqlite:///var/lib/mw/middleware.db?mode=rwc")),
            Path::new("/var/lib/mw/admin-password")
        );
        assert_eq!(
            password_file(&server("sqlite://middleware.db?mode=rwc")),
            Path::new("./admin-password")
        );
        assert_eq!(
            password_file(&server("postgres://u@h/db")),
            Path::new("./admin-password")
        );
    }

    #[test]
    fn environment_wins() {
        let s = server("sqlite:///nonexistent-dir/x.db");
        let (p, src) = resolve(&s, &|n| {
            (n == "MIDDLEWARE_ADMIN_PASSWORD").then(|| "from-env".to_string())
        })
        .unwrap();
        assert_eq!(p.expose(), "from-env");
        assert_eq!(src, PasswordSource::Env("MIDDLEWARE_ADMIN_PASSWORD".into()));
    }

    #[test]
    fn generated_once_private_and_reused() {
        let dir = std::env::temp_dir().join(format!(
            "mw-admin-pw-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let s = server(&format!("sqlite://{}/m.db?mode=rwc", dir.display()));
        let (first, src) = resolve(&s, &|_| None).unwrap();
        assert_eq!(src, PasswordSource::File(dir.join(PASSWORD_FILE)));
        assert!(first.expose().len() >= 20);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(PASSWORD_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, _) = resolve(&s, &|_| None).unwrap();
        assert_eq!(
            again.expose(),
            first.expose(),
            "a restart keeps the password"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
