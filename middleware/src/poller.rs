//! Polling fallback for sites where the appliance cannot reach the middleware.
//!
//! Every `polling_interval_secs`, each configuration with `polling_event_types` asks
//! `SupportSessionListing` for sessions ended since its persisted checkpoint and stores a
//! session-end event per lsid through the same store path as outbound events (so a session
//! seen both ways is processed once). The first poll starts one interval back, not at the
//! beginning of history.

use std::sync::Arc;
use std::time::Duration;

use crate::app::{Runtime, Shared};
use crate::beyondtrust::ApplianceError;
use crate::config::SESSION_END;
use crate::store::{now_ms, Inserted, NewEvent, Source, Status, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Appliance(#[from] ApplianceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Polls one configuration once; returns how many new events were stored.
pub async fn poll_once(shared: &Shared, rt: &Runtime) -> Result<usize, PollError> {
    let cfg = &rt.cfg;
    if cfg.disabled
        || !cfg
            .beyondtrust
            .polling_event_types
            .iter()
            .any(|t| t == SESSION_END)
    {
        return Ok(0);
    }
    let started = now_ms() / 1000;
    let since = match shared.store.checkpoint(&cfg.name).await? {
        Some(c) => c,
        None => started - cfg.beyondtrust.polling_interval_secs as i64,
    };
    let sessions = rt.appliance.session_listing(since.max(0)).await?;
    let mut stored = 0;
    for s in sessions {
        let mut fields = vec![
            ("event".to_string(), SESSION_END.to_string()),
            ("lsid".to_string(), s.lsid.clone()),
        ];
        if let Some(k) = &s.external_key {
            fields.push(("external_key".into(), k.clone()));
        }
        let event = NewEvent {
            configuration: cfg.name.clone(),
            appliance_id: cfg.appliance_id.clone(),
            event_type: SESSION_END.into(),
            lsid: s.lsid,
            event_timestamp: String::new(),
            source: Source::Polling,
            fields,
            status: Status::Received,
            note: None,
        };
        if let Inserted::New(id) = shared.store.insert_event(&event).await? {
            tracing::info!(id, lsid = %event.lsid, configuration = %cfg.name, "polled session end stored");
            stored += 1;
        }
    }
    // Overlap the next window a little: duplicates are dropped by the store.
    shared
        .store
        .set_checkpoint(
            &cfg.name,
            (started - shared.tuning.poll_overlap_secs).max(since),
        )
        .await?;
    if stored > 0 {
        shared.wake.notify_waiters();
    }
    Ok(stored)
}

/// Polls one configuration every `polling_interval_secs` until shutdown.
pub async fn run_poller(shared: Arc<Shared>, rt: Arc<Runtime>) {
    let mut shutdown = shared.shutdown.clone();
    let every = Duration::from_secs(rt.cfg.beyondtrust.polling_interval_secs.max(1));
    let lead =
        crate::leader::Leadership::new(shared.store.clone(), &format!("poll:{}", rt.cfg.name));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
        if *shutdown.borrow() {
            break;
        }
        // With several instances on one Postgres database, only the lock holder polls.
        if !lead.is_leader().await {
            continue;
        }
        if let Err(e) = poll_once(&shared, &rt).await {
            tracing::warn!(configuration = %rt.cfg.name, error = %e, "polling failed; will try again next interval");
        }
    }
    lead.resign().await;
}

/// Runs one [`run_poller`] per enabled polling configuration and follows configuration
/// changes: a changed configuration's poller is replaced, a removed or disabled one stopped.
pub async fn supervise(shared: Arc<Shared>) {
    let mut changes = shared.watch_runtimes();
    let mut shutdown = shared.shutdown.clone();
    let mut running: std::collections::HashMap<
        String,
        (Arc<Runtime>, tokio::task::JoinHandle<()>),
    > = std::collections::HashMap::new();
    loop {
        let current = shared.runtimes();
        let wanted: Vec<Arc<Runtime>> = current
            .values()
            .filter(|rt| !rt.cfg.disabled && !rt.cfg.beyondtrust.polling_event_types.is_empty())
            .cloned()
            .collect();
        running.retain(|name, (rt, task)| {
            let keep = wanted.iter().any(|w| Arc::ptr_eq(w, rt)) && !task.is_finished();
            if !keep {
                tracing::info!(configuration = %name, "poller stopped (configuration changed)");
                task.abort();
            }
            keep
        });
        for rt in wanted {
            if !running.contains_key(&rt.cfg.name) {
                let task = tokio::spawn(run_poller(shared.clone(), rt.clone()));
                running.insert(rt.cfg.name.clone(), (rt, task));
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { break },
            _ = shutdown.changed() => {}
        }
        if shared.is_shutting_down() {
            break;
        }
    }
    for (_, (_, task)) in running {
        let _ = task.await;
    }
}
