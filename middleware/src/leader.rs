//! One poller per configuration across instances sharing a Postgres database.
//!
//! Each instance would otherwise poll the appliance's session listing for the same
//! configuration (the store drops the duplicates, but the appliance pays N times). The poller
//! of a configuration first takes a session-level advisory lock on a connection of its own,
//! kept out of the pool for as long as it leads: while that connection lives, no other
//! instance gets the lock. When the leader dies its connection closes, Postgres releases the
//! lock, and the next instance to try (every polling interval) takes over. A SQLite file has
//! one owner process, which always leads.

use sqlx::{AnyConnection, Connection, Row};
use tokio::sync::Mutex;

use crate::store::Store;

pub struct Leadership {
    store: Store,
    key: i64,
    /// The connection holding the advisory lock while this instance leads.
    held: Mutex<Option<AnyConnection>>,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("key", &self.key)
            .finish()
    }
}

/// A stable 64-bit key for `name` (FNV-1a): the same in every instance and release.
pub fn lock_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

impl Leadership {
    /// Leadership of the task called `name` (e.g. `poll:<configuration>`).
    pub fn new(store: Store, name: &str) -> Self {
        Self {
            store,
            key: lock_key(name),
            held: Mutex::new(None),
        }
    }

    /// Whether this instance leads now: keeps the lock if its connection is still alive,
    /// otherwise tries to take it. Never waits for another leader.
    pub async fn is_leader(&self) -> bool {
        if !self.store.is_postgres() {
            return true;
        }
        let mut held = self.held.lock().await;
        if let Some(conn) = held.as_mut() {
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                return true;
            }
            tracing::warn!("lost the connection holding the polling lock; trying again");
            *held = None;
        }
        match self.try_take().await {
            Ok(Some(conn)) => {
                *held = Some(conn);
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "could not ask for the polling lock");
                false
            }
        }
    }

    async fn try_take(&self) -> Result<Option<AnyConnection>, sqlx::Error> {
        let mut conn = self.store.pool().acquire().await?.detach();
        let row = sqlx::query("SELECT pg_try_advisory_lock($1) AS ok")
            .bind(self.key)
            .fetch_one(&mut conn)
            .await?;
        if row.try_get::<bool, _>("ok")? {
            Ok(Some(conn))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Gives the lead up (graceful shutdown), so another instance takes over at once.
    pub async fn resign(&self) {
        if let Some(conn) = self.held.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(lock_key("poll:Prod"), lock_key("poll:Prod"));
        assert_ne!(lock_key("poll:Prod"), lock_key("poll:Test"));
    }

    #[tokio::test]
    async fn a_sqlite_owner_always_leads() {
        let url = crate::testing::temp_database_url("leader");
        let store = Store::connect(&url).await.unwrap();
        assert!(Leadership::new(store.clone(), "poll:x").is_leader().await);
        store.close().await;
        crate::testing::remove_sqlite_files(&url);
    }

    /// One leader at a time; when it goes (its connection closes) another instance takes over.
    #[tokio::test]
    #[ignore = "needs a Postgres server in MIDDLEWARE_TEST_POSTGRES_URL"]
    async fn postgres_lead_is_exclusive_and_handed_over() {
        let url = crate::store::tests::postgres_url().await;
        let a = Leadership::new(Store::connect(&url).await.unwrap(), "poll:Prod");
        let b = Leadership::new(Store::connect(&url).await.unwrap(), "poll:Prod");
        let other = Leadership::new(Store::connect(&url).await.unwrap(), "poll:Test");
        assert!(a.is_leader().await);
        assert!(!b.is_leader().await, "two leaders for one configuration");
        assert!(a.is_leader().await, "the leader keeps its lead");
        assert!(
            other.is_leader().await,
            "another configuration has its own lead"
        );
        // The leader's process dies: its connection goes away with it.
        drop(a);
        let mut took_over = false;
        for _ in 0..50 {
            if b.is_leader().await {
                took_over = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(took_over, "the lead was not handed over");
    }
}
