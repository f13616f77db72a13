//! What operations need from the store: readiness, queue age, and retention.

use sqlx::Row;

use super::{now_ms, Result, Store};

impl Store {
    /// One round trip to the database (`/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// When the oldest event that is due now became due (`None`: nothing due).
    pub async fn oldest_due_at(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS t FROM events WHERE status IN ('received', 'retry') AND next_attempt_at <= $1",
        )
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("t")?)
    }

    /// Deletes done, skipped and unassociated events last changed before `before_ms`, with
    /// their attempts. Failed events (and everything still pending) are kept whatever their
    /// age: they wait for an operator. Returns the number of events purged.
    pub async fn purge_finished(&self, before_ms: i64) -> Result<u64> {
        const FINISHED: &str = "status IN ('done', 'skipped', 'unassociated') AND updated_at < $1";
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "DELETE FROM attempts WHERE event_id IN (SELECT id FROM events WHERE {FINISHED})"
        ))
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(&format!("DELETE FROM events WHERE {FINISHED}"))
            .bind(before_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
