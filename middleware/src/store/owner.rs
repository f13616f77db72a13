//! One middleware process per SQLite file.
//!
//! A SQLite database has no other process to share claims with, so at start the owner treats
//! every `processing` claim as a dead process's and makes it due again. A second `serve` started
//! by mistake on the same file would reset the live process's claims and post duplicates; so the
//! owner first takes an exclusive SQLite lock on a small companion file (`<db>.lock`) and holds
//! it for its whole life. SQLite's locks are released by the operating system when the process
//! dies, so a crash never leaves a stale lock behind, and they also exclude a second connection
//! inside the same process (two `Server::bind` calls).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteLockingMode};
use sqlx::{ConnectOptions, Connection};

use super::StoreError;

/// Holds the lock while alive; [`OwnerLock::release`] (or dropping it) lets it go.
pub struct OwnerLock {
    conn: SqliteConnection,
}

impl OwnerLock {
    pub async fn release(self) {
        let _ = self.conn.close().await;
    }
}

/// Takes ownership of the SQLite database `url`; `None` for in-memory databases (nothing to
/// share). Fails with [`StoreError::InUse`] when another live connection holds the lock.
pub async fn acquire(url: &str) -> Result<Option<OwnerLock>, StoreError> {
    let opts = SqliteConnectOptions::from_str(url)?;
    let db = opts.get_filename().to_path_buf();
    let name = db.to_string_lossy().to_string();
    if name.is_empty() || name == ":memory:" || url.contains("mode=memory") {
        return Ok(None);
    }
    let lock = db.with_file_name(format!(
        "{}.lock",
        db.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let in_use = || StoreError::InUse {
        path: name.clone(),
        lock: lock.display().to_string(),
    };
    // One attempt at a time in this process: connections racing for the fresh lock file's
    // journal set-up can all see SQLITE_BUSY, and then nobody would win.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut conn = SqliteConnectOptions::new()
        .filename(&lock)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Delete)
        .locking_mode(SqliteLockingMode::Exclusive)
        // Long enough to ride out another starting process's brief look at the file, far
        // shorter than a live owner holds it (until it stops).
        .busy_timeout(Duration::from_millis(500))
        .connect()
        .await
        .map_err(|e| if is_busy(&e) { in_use() } else { e.into() })?;
    // In exclusive locking mode the first write takes the lock and keeps it until the
    // connection closes. `BEGIN EXCLUSIVE` takes it at once: two processes starting together
    // cannot both hold a shared lock and then both fail to upgrade it (one of them wins).
    let taken = async {
        sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS owner (pid BIGINT NOT NULL, since BIGINT NOT NULL)",
        )
        .execute(&mut conn)
        .await?;
        sqlx::query("DELETE FROM owner").execute(&mut conn).await?;
        sqlx::query("INSERT INTO owner (pid, since) VALUES ($1, $2)")
            .bind(std::process::id() as i64)
            .bind(super::now_ms())
            .execute(&mut conn)
            .await?;
        sqlx::query("COMMIT").execute(&mut conn).await
    }
    .await;
    match taken {
        Ok(_) => Ok(Some(OwnerLock { conn })),
        Err(e) => {
            let _ = conn.close().await;
            Err(if is_busy(&e) { in_use() } else { e.into() })
        }
    }
}

/// `SQLITE_BUSY` / `SQLITE_LOCKED` (and their extended codes).
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
            matches!(code & 0xff, 5 | 6) || d.message().contains("database is locked")
        }
        _ => false,
    }
}
