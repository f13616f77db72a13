//! The Zendesk update budget of a whole account, shared by every middleware instance through
//! the database.
//!
//! `update_rate_per_minute` is the account's budget, not one process's: three instances with an
//! in-process bucket each would send three times the account's limit and collect 429s. The
//! budget is a GCRA ("virtual scheduling") cell per Zendesk account: one row holding the
//! theoretical arrival time `tat` (ms) of the next request. A request may go when
//! `max(tat, now) - now <= tolerance` (then `tat` moves one interval on), and advancing `tat` is one conditional
//! `UPDATE`, so concurrent instances cannot both take the last slot. With the same shape as the
//! in-process limiter (90% of the rate refilled, a burst of a tenth of the budget) any 60-second
//! window holds at most `update_rate_per_minute` requests across all instances. A 429 seen by
//! one instance pauses the account for all of them (`paused_until`).

use std::time::Duration;

use sqlx::Row;

use crate::store::{now_ms, Store, StoreError};

/// (interval, tolerance) in ms for a budget of `per_minute`: the in-process limiter's shape, 90%
/// of the budget refilled over a minute plus a burst of a tenth, so that a 60-second window never
/// holds more than `per_minute` requests.
fn shape(per_minute: u32) -> (i64, i64) {
    let per_minute = per_minute.max(1) as f64;
    let interval_ms = (60_000.0 / (per_minute * 0.9)).ceil() as i64;
    let burst = (per_minute / 10.0).floor().max(1.0) as i64;
    (interval_ms, (burst - 1) * interval_ms)
}

/// The shared budget of one Zendesk account (its base URL, lower-cased).
#[derive(Debug, Clone)]
pub struct SharedBudget {
    store: Store,
    account: String,
    /// Milliseconds between requests at the sustained rate.
    interval_ms: i64,
    /// How far ahead of now `tat` may run: the burst.
    tolerance_ms: i64,
}

impl SharedBudget {
    pub fn new(store: Store, zendesk_url: &str, per_minute: u32) -> Self {
        let (interval_ms, tolerance_ms) = shape(per_minute);
        Self {
            store,
            account: zendesk_url.trim_end_matches('/').to_ascii_lowercase(),
            interval_ms,
            tolerance_ms,
        }
    }

    /// Takes one request slot if one is free now; otherwise says how long to wait.
    pub async fn try_acquire(&self) -> Result<Option<Duration>, StoreError> {
        let pool = self.store.pool();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO zendesk_budget (account, tat, paused_until) VALUES ($1, 0, 0) ON CONFLICT DO NOTHING",
        )
        .bind(&self.account)
        .execute(pool)
        .await?;
        let start = "(CASE WHEN tat > $2 THEN tat ELSE $2 END)";
        let taken = sqlx::query(&format!(
            "UPDATE zendesk_budget SET tat = {start} + $3 \
             WHERE account = $1 AND paused_until <= $2 AND {start} - $2 <= $4"
        ))
        .bind(&self.account)
        .bind(now)
        .bind(self.interval_ms)
        .bind(self.tolerance_ms)
        .execute(pool)
        .await?;
        if taken.rows_affected() == 1 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT tat, paused_until FROM zendesk_budget WHERE account = $1")
            .bind(&self.account)
            .fetch_one(pool)
            .await?;
        let tat: i64 = row.try_get("tat")?;
        let paused: i64 = row.try_get("paused_until")?;
        let free_at = (tat - self.tolerance_ms).max(paused);
        Ok(Some(Duration::from_millis(
            (free_at - now).clamp(1, 60_000) as u64,
        )))
    }

    /// Waits until this instance may send one request to the account. A database error is
    /// logged and retried after a short pause: sending without the shared budget could exceed it.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire().await {
                Ok(None) => return,
                Ok(Some(wait)) => {
                    crate::metrics::rate_limit_wait();
                    tokio::time::sleep(wait).await
                }
                Err(e) => {
                    tracing::warn!(error = %e, "shared Zendesk budget unavailable; waiting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// Zendesk answered 429 to some instance: every instance holds its requests until `until`.
    pub async fn pause(&self, d: Duration) -> Result<(), StoreError> {
        let until = now_ms() + d.as_millis() as i64;
        sqlx::query(
            "UPDATE zendesk_budget SET paused_until = $2 WHERE account = $1 AND paused_until < $2",
        )
        .bind(&self.account)
        .bind(until)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn budget_is_shared_and_bounded(url: String) {
        let store = Store::connect(&url).await.unwrap();
        // Two instances (two stores on one database) share the account's budget of 100/min:
        // a burst of 10, then one slot per 667 ms.
        let other = Store::open_unowned(&url).await.unwrap();
        let a = SharedBudget::new(store.clone(), "https://Acme.zendesk.com/", 100);
        let b = SharedBudget::new(other, "https://acme.zendesk.com", 100);
        let mut granted = 0;
        for i in 0..30 {
            let who = if i % 2 == 0 { &a } else { &b };
            if who.try_acquire().await.unwrap().is_none() {
                granted += 1;
            }
        }
        assert_eq!(
            granted, 10,
            "the burst is the account's, not each instance's"
        );
        let wait = a.try_acquire().await.unwrap().expect("must wait");
        assert!(wait <= Duration::from_millis(667), "{wait:?}");
        // Another account has its own budget.
        let c = SharedBudget::new(store.clone(), "https://other.zendesk.com", 100);
        assert!(c.try_acquire().await.unwrap().is_none());
        // A 429 seen by one instance holds the others.
        c.pause(Duration::from_secs(30)).await.unwrap();
        let wait = c.try_acquire().await.unwrap().expect("paused");
        assert!(wait > Duration::from_secs(29), "{wait:?}");
        store.close().await;
    }

    /// Over a simulated stretch of time no 60-second window holds more than the budget.
    #[test]
    fn gcra_shape_never_exceeds_the_budget_in_any_minute() {
        for per_minute in [1u32, 7, 60, 100, 700] {
            let (interval_ms, tolerance_ms) = shape(per_minute);
            // Greedy sender: at every ms take a slot if the GCRA allows it.
            let mut tat = 0i64;
            let mut sent = Vec::new();
            for now in 0..300_000i64 {
                let start = tat.max(now);
                if start - now <= tolerance_ms {
                    tat = start + interval_ms;
                    sent.push(now);
                }
            }
            let max_in_window = sent
                .iter()
                .map(|t| {
                    sent.iter()
                        .filter(|u| **u >= *t && **u < t + 60_000)
                        .count()
                })
                .max()
                .unwrap();
            assert!(
                max_in_window <= per_minute as usize,
                "{per_minute}/min: {max_in_window} in one minute"
            );
            assert!(
                max_in_window as f64 >= per_minute as f64 * 0.85,
                "{per_minute}: {max_in_window}"
            );
        }
    }

    #[tokio::test]
    async fn sqlite_budget_is_shared_and_bounded() {
        let url = crate::testing::temp_database_url("budget");
        budget_is_shared_and_bounded(url.clone()).await;
        crate::testing::remove_sqlite_files(&url);
    }

    #[tokio::test]
    #[ignore = "needs a Postgres server in MIDDLEWARE_TEST_POSTGRES_URL"]
    async fn postgres_budget_is_shared_and_bounded() {
        budget_is_shared_and_bounded(crate::store::tests::postgres_url().await).await;
    }
}
