//! `[operations] retain_days`: finished events are purged once they are older than that.
//!
//! Done, skipped and unassociated events (and their attempts) go; failed ones stay until an
//! operator retries or removes them, since they are the ones someone still has to look at.
//! Runs at start and then hourly; with several instances each may run it (deleting is
//! idempotent).

use std::sync::Arc;
use std::time::Duration;

use crate::app::Shared;
use crate::store::now_ms;

const EVERY: Duration = Duration::from_secs(3600);

/// Purges once: events finished more than `days` ago. Returns how many went.
pub async fn purge_once(shared: &Shared, days: u32) -> Result<u64, crate::store::StoreError> {
    let before = now_ms() - i64::from(days) * 86_400_000;
    let purged = shared.store.purge_finished(before).await?;
    if purged > 0 {
        tracing::info!(purged, days, "purged finished events past retention");
    }
    Ok(purged)
}

pub async fn run(shared: Arc<Shared>, days: u32) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        if let Err(e) = purge_once(&shared, days).await {
            tracing::warn!(error = %e, "purging old events failed; will try again");
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
}
