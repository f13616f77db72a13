//! The worker pool: claim a due event, fetch its report, render, post one private comment.
//!
//! Exactly once: the comment's marker is stored before the PUT; if a previous attempt left it
//! set (crash, timeout, 5xx after sending), the ticket's comments are searched for the marker
//! before posting again, no sooner than one HTTP timeout after that attempt (Zendesk may apply
//! an update late). The order before a PUT is: wait for the rate-limit slot, renew the lease
//! (the claim must still be ours, with a whole lease ahead), record the marker, send. The lease
//! is also renewed every third of its length while the event is worked on, so a slow report or
//! a long rate-limit wait never lets a second worker take the event over and post it too.
//!
//! Errors become retries (transient, for the configured event types, with capped exponential
//! backoff and jitter; at `Retry-After` when Zendesk sends one) until `retry_for_hours` have
//! passed since the event arrived (or `retry_attempt_limit`, when set), or a `failed` status
//! with the message. Every attempt's error is kept in the `attempts` table.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use tracing::Instrument;

use crate::app::{Runtime, Shared};
use crate::beyondtrust::{ApplianceError, Session, SurveyKind};
use crate::config::{DurationUnit, CUSTOMER_SURVEY, REP_SURVEY, SESSION_END};
use crate::posting;
use crate::render::{self, Template};
use crate::store::{now_ms, Source, StoredEvent};
use crate::zendesk::ZendeskError;

mod tickets;

/// Why one attempt did not finish the event.
#[derive(Debug)]
enum StepError {
    /// May succeed later.
    Transient(String),
    /// The ticket update may have been applied (timeout, reset after sending): the marker stays
    /// and the next attempt looks for the comment, no sooner than one HTTP timeout from now.
    Uncertain {
        message: String,
        retry_after: Option<Duration>,
    },
    Throttled {
        message: String,
        retry_after: Option<Duration>,
    },
    Permanent(String),
    /// Shutting down mid-wait: give the event back untouched.
    Released,
}

impl From<ApplianceError> for StepError {
    fn from(e: ApplianceError) -> Self {
        if let Some(retry_after) = e.retry_after() {
            Self::Throttled {
                message: e.to_string(),
                retry_after: Some(retry_after),
            }
        } else if e.is_transient() {
            Self::Transient(e.to_string())
        } else {
            Self::Permanent(e.to_string())
        }
    }
}

impl From<ZendeskError> for StepError {
    fn from(e: ZendeskError) -> Self {
        match e {
            ZendeskError::RateLimited { retry_after } => Self::Throttled {
                message: e.to_string(),
                retry_after,
            },
            // Zendesk said when to come back (503 with Retry-After): a wait, as for a 429.
            ZendeskError::Transient { .. } if e.retry_after().is_some() => Self::Throttled {
                retry_after: e.retry_after(),
                message: e.to_string(),
            },
            ZendeskError::Transient { .. } => Self::Transient(e.to_string()),
            ZendeskError::Permanent { .. } => Self::Permanent(e.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for StepError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Transient(e.to_string())
    }
}

enum Done {
    Posted(u64),
    Unassociated(String),
    /// A ticket was created for an unassociated session, the report as its first comment.
    Created(u64),
    /// Nothing was posted to the ticket, for the reason given (a closed ticket).
    LeftAlone(u64, String),
}

/// Runs one worker until shutdown.
pub async fn run_worker(shared: Arc<Shared>, id: usize) {
    let mut shutdown = shared.shutdown.clone();
    tracing::debug!(worker = id, "worker started");
    let mut store_failures = 0u32;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Register for wake-ups before looking, so a notification between the claim and the
        // wait is not lost.
        let notified = shared.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match process_next(&shared).await {
            Ok(true) => {
                store_failures = 0;
                continue;
            }
            Ok(false) => store_failures = 0,
            Err(e) => {
                // The database is unreachable: back off (capped), ignoring wake-ups, which only
                // say that there is work the database cannot hand out right now.
                shared
                    .store_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let delay = store_backoff(&shared.tuning, store_failures);
                store_failures = store_failures.saturating_add(1);
                tracing::error!(worker = id, error = %e, retry_in_ms = delay.as_millis() as u64, "the database failed; backing off");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        }
        let sleep_for = match shared.store.next_due_at().await {
            Ok(Some(at)) => {
                Duration::from_millis((at - now_ms()).max(0) as u64).min(shared.tuning.idle_poll)
            }
            _ => shared.tuning.idle_poll,
        };
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(sleep_for) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::debug!(worker = id, "worker stopped");
}

/// Claims and processes one due event. `Ok(false)` when nothing was due.
pub async fn process_next(shared: &Arc<Shared>) -> Result<bool, crate::store::StoreError> {
    let Some(event) = shared.store.claim_due(shared.tuning.lease).await? else {
        return Ok(false);
    };
    let span = tracing::info_span!("event", id = event.id, event_type = %event.event_type, lsid = %event.lsid);
    let started = std::time::Instant::now();
    let outcome = holding_lease(shared, &event, process(shared, &event))
        .instrument(span)
        .await;
    crate::metrics::processing_time(started.elapsed());
    record(shared, &event, outcome).await?;
    shared.progress.notify_waiters();
    // Finishing one event can make another due (a survey waits for its session's end).
    shared.wake.notify_waiters();
    Ok(true)
}

/// Runs `work` while renewing the event's lease every third of its length. If the claim turns
/// out to be someone else's (this worker stalled past its lease), the work is dropped and the
/// event released: its new owner finishes it.
async fn holding_lease<T>(
    shared: &Shared,
    e: &StoredEvent,
    work: impl std::future::Future<Output = Result<T, StepError>>,
) -> Result<T, StepError> {
    let every = (shared.tuning.lease / 3).max(Duration::from_millis(10));
    let renew = async {
        loop {
            tokio::time::sleep(every).await;
            match shared.store.renew_lease(e, shared.tuning.lease).await {
                Ok(true) => {}
                Ok(false) => return,
                // A database hiccup: the check right before the PUT still guards the claim.
                Err(err) => tracing::warn!(id = e.id, error = %err, "renewing the lease failed"),
            }
        }
    };
    tokio::select! {
        outcome = work => outcome,
        () = renew => {
            tracing::warn!(id = e.id, "lease lost to another worker; leaving the event to it");
            Err(StepError::Released)
        }
    }
}

/// Why the retry window of an event is over, if it is.
fn retry_window_over(e: &StoredEvent, hours: u32, now: i64) -> Option<String> {
    let end = e.retry_from + i64::from(hours) * 3_600_000;
    (now >= end).then(|| format!("retried for {hours} hours"))
}

async fn record(
    shared: &Shared,
    e: &StoredEvent,
    outcome: Result<Done, StepError>,
) -> Result<(), crate::store::StoreError> {
    let store = &shared.store;
    let still_ours = match outcome {
        Ok(Done::Posted(ticket)) => {
            tracing::info!(id = e.id, lsid = %e.lsid, event_type = %e.event_type, ticket, "comment added");
            store.mark_done(e, Some(ticket)).await?
        }
        Ok(Done::Created(ticket)) => {
            tracing::info!(id = e.id, lsid = %e.lsid, ticket, "ticket created for the unassociated session");
            store.mark_done(e, Some(ticket)).await?
        }
        Ok(Done::LeftAlone(ticket, note)) => {
            tracing::warn!(id = e.id, lsid = %e.lsid, ticket, %note, "ticket left alone");
            store.mark_left_alone(e, ticket, &note).await?
        }
        Ok(Done::Unassociated(reason)) => {
            tracing::info!(id = e.id, lsid = %e.lsid, %reason, "session not associated with a ticket");
            store.mark_unassociated(e, &reason).await?
        }
        Err(StepError::Released) => store.release(e).await?,
        Err(StepError::Permanent(msg)) => {
            tracing::warn!(id = e.id, lsid = %e.lsid, error = %msg, "event failed");
            store.mark_failed(e, &msg).await?
        }
        Err(StepError::Throttled {
            message,
            retry_after,
        }) => {
            let hours = shared
                .runtime(&e.configuration)
                .map_or(0, |r| r.cfg.beyondtrust.retry_for_hours);
            if retry_window_over(e, hours, now_ms()).is_none() {
                let delay = retry_after.unwrap_or_else(|| backoff(&shared.tuning, e.throttled));
                tracing::info!(
                    id = e.id,
                    delay_ms = delay.as_millis() as u64,
                    error = %message,
                    "Zendesk asked to wait; retrying later"
                );
                store
                    .schedule_retry(e, now_ms() + delay.as_millis() as i64, &message, true)
                    .await?
            } else {
                store
                    .mark_failed(
                        e,
                        &format!(
                            "{message} (gave up after {} rate-limited attempts over {hours} hours)",
                            e.throttled + 1
                        ),
                    )
                    .await?
            }
        }
        Err(StepError::Transient(msg)) => retry_or_fail(shared, e, msg, None, false).await?,
        Err(StepError::Uncertain {
            message,
            retry_after,
        }) => retry_or_fail(shared, e, message, retry_after, true).await?,
    };
    if !still_ours {
        tracing::warn!(
            id = e.id,
            "claim was taken over by another worker; outcome discarded"
        );
    }
    Ok(())
}

/// A transient failure: another attempt later while the event type is retried and its retry
/// window (and attempt limit, when set) allows, else `failed`. After an `uncertain` outcome the
/// next attempt (which looks for the comment first) waits at least one HTTP timeout.
async fn retry_or_fail(
    shared: &Shared,
    e: &StoredEvent,
    msg: String,
    retry_after: Option<Duration>,
    uncertain: bool,
) -> Result<bool, crate::store::StoreError> {
    let store = &shared.store;
    let rt = shared.runtime(&e.configuration);
    let cfg = rt.as_ref().map(|r| &r.cfg.beyondtrust);
    let retry_types = cfg.map(|b| match e.source {
        Source::Outbound => &b.retry_outbound_event_types,
        Source::Polling => &b.retry_polling_event_types,
    });
    let retryable = retry_types.is_some_and(|t| t.iter().any(|x| x == &e.event_type));
    let limit_reached = cfg
        .and_then(|b| b.retry_attempt_limit)
        .is_some_and(|l| e.attempts >= i64::from(l));
    let window_over = retry_window_over(e, cfg.map_or(0, |b| b.retry_for_hours), now_ms());
    if retryable && !limit_reached && window_over.is_none() {
        let mut delay = retry_after.unwrap_or_else(|| backoff(&shared.tuning, e.attempts));
        if uncertain {
            delay = delay.max(shared.tuning.http_timeout);
        }
        tracing::info!(id = e.id, attempt = e.attempts + 1, delay_ms = delay.as_millis() as u64, error = %msg, "retrying later");
        store
            .schedule_retry(e, now_ms() + delay.as_millis() as i64, &msg, false)
            .await
    } else {
        let msg = match (retryable, window_over) {
            (true, Some(why)) => {
                format!("{msg} (after {} attempts; {why})", e.attempts + 1)
            }
            (true, None) => format!("{msg} (after {} attempts)", e.attempts + 1),
            (false, _) => msg,
        };
        tracing::warn!(id = e.id, lsid = %e.lsid, error = %msg, "event failed");
        store.mark_failed(e, &msg).await
    }
}

/// Delay after `failures` consecutive database errors: `store_backoff_base * 2^failures`, capped.
fn store_backoff(t: &crate::app::Tuning, failures: u32) -> Duration {
    t.store_backoff_base
        .saturating_mul(2u32.saturating_pow(failures.min(30)))
        .min(t.store_backoff_max)
}

/// `retry_base * 2^attempts`, capped, with "equal jitter" (between half and all of it).
fn backoff(t: &crate::app::Tuning, attempts: i64) -> Duration {
    let exp = 2u32.saturating_pow(attempts.clamp(0, 30) as u32);
    let full = t.retry_base.saturating_mul(exp).min(t.retry_max);
    let half = full / 2;
    half + full
        .saturating_sub(half)
        .mul_f64(rand::thread_rng().gen::<f64>())
}

async fn process(shared: &Shared, e: &StoredEvent) -> Result<Done, StepError> {
    let rt = shared.runtime(&e.configuration).ok_or_else(|| {
        StepError::Permanent(format!(
            "configuration {:?} no longer exists",
            e.configuration
        ))
    })?;
    if rt.cfg.disabled {
        return Err(StepError::Permanent(format!(
            "configuration {:?} is disabled",
            e.configuration
        )));
    }
    if e.lsid.is_empty() {
        return Err(StepError::Permanent("event has no lsid".into()));
    }
    let mut record =
        render::event_record(&e.appliance_id, &e.lsid, &e.event_type, &e.event_timestamp);
    let max_chars = rt.cfg.zendesk.comment_max_chars;
    let (ticket, plan, extras) = match e.event_type.as_str() {
        SESSION_END => {
            let session = wait_for_report(shared, &rt, &e.lsid).await?;
            let key = session.external_key.clone().unwrap_or_default();
            let ticket = match crate::ticket_key::ticket_for(&key, &rt.cfg.zendesk.url) {
                Ok(t) => t,
                Err(_)
                    if rt.cfg.zendesk.tickets.unassociated_sessions
                        == crate::config::UnassociatedSessions::CreateTicket =>
                {
                    return tickets::create_for_session(shared, &rt, e, &session).await;
                }
                Err(reason) => return Ok(Done::Unassociated(reason)),
            };
            let view = render::session_view(&session, &rt.cfg.appliance_id);
            record.start = view.start_iso.clone();
            record.duration_secs = view.duration_secs;
            record.rep = view.primary_rep.clone();
            record.survey = render::view::rating(&session.customer_survey);
            let plan = posting::plan_session(
                &view,
                &record,
                &rt.cfg.zendesk.system_information_categories,
                max_chars,
                |v| shared.renderer.render(Template::Session, v),
            )
            .map_err(|e| StepError::Permanent(e.to_string()))?;
            let mut fields = Vec::new();
            if let (Some(field), Some(secs)) =
                (rt.cfg.zendesk.duration_field_id, session.duration_secs())
            {
                let value = match rt.cfg.zendesk.duration_field_unit {
                    DurationUnit::Seconds => secs,
                    DurationUnit::Minutes => secs.div_ceil(60),
                };
                fields.push((field, serde_json::Value::from(value)));
            }
            let extras = posting::Extras {
                tags: rt.cfg.zendesk.tags.clone(),
                custom_fields: fields,
                status: None,
            };
            (ticket, plan, extras)
        }
        CUSTOMER_SURVEY | REP_SURVEY => {
            let (kind, template, title) = if e.event_type == CUSTOMER_SURVEY {
                (
                    SurveyKind::Customer,
                    Template::CustomerSurvey,
                    "Customer exit survey",
                )
            } else {
                (
                    SurveyKind::Representative,
                    Template::RepSurvey,
                    "Representative exit survey",
                )
            };
            // The survey report may lag the event like the session report does.
            let surveys = wait_bounded(&shared.tuning, shared.shutdown.clone(), || async {
                let surveys = rt.appliance.exit_surveys(kind, &e.lsid).await?;
                let mut surveys: Vec<_> = surveys
                    .into_iter()
                    .filter(|s| s.lsid.is_empty() || s.lsid == e.lsid)
                    .collect();
                // Several customers may each submit a survey (one event each): prefer the
                // one submitted at this event's time.
                if let Ok(ts) = e.event_timestamp.trim().parse::<i64>() {
                    if surveys.iter().any(|s| s.timestamp == Some(ts)) {
                        surveys.retain(|s| s.timestamp == Some(ts));
                    }
                }
                Ok((!surveys.is_empty()).then_some(surveys))
            })
            .await?;
            let Some(surveys) = surveys else {
                return Err(StepError::Transient(format!(
                    "{title} for session {} is not in the report yet",
                    e.lsid
                )));
            };
            // The session report is authoritative for the ticket; the event's field is a fallback.
            let key = match rt.appliance.support_session(&e.lsid).await? {
                Some(s) => s.external_key.unwrap_or_default(),
                None => field(e, "external_key").unwrap_or_default(),
            };
            // A session without a ticket of its own may have had one created at its end.
            let ticket = match crate::ticket_key::ticket_for(&key, &rt.cfg.zendesk.url) {
                Ok(t) => t,
                Err(reason) => match shared
                    .store
                    .created_ticket(&e.appliance_id, &e.lsid)
                    .await?
                {
                    Some(t) => t,
                    None => return Ok(Done::Unassociated(reason)),
                },
            };
            record.rep = surveys.iter().find_map(|s| s.primary_rep.clone());
            record.survey = surveys.iter().find_map(render::survey_rating);
            let mut html = String::new();
            for s in &surveys {
                let part = shared
                    .renderer
                    .render(template, &render::survey_view(s, title))
                    .map_err(|e| StepError::Permanent(e.to_string()))?;
                html.push_str(&part);
            }
            let mut extras = posting::Extras::default();
            if e.event_type == CUSTOMER_SURVEY {
                match tickets::survey_change(&rt, ticket, &surveys).await? {
                    crate::survey_rules::Decision::Closed => {
                        let note = tickets::closed_note(ticket, &e.event_type);
                        return Ok(Done::LeftAlone(ticket, note));
                    }
                    crate::survey_rules::Decision::Change(c) => {
                        // The rule's change travels in the survey comment's own update.
                        html.push_str(&crate::survey_rules::html(&c));
                        extras.status = c.status;
                        extras.tags = c.add_tags;
                    }
                }
            }
            let plan = posting::plan_html(&html, &record, max_chars);
            (ticket, plan, extras)
        }
        other => {
            return Err(StepError::Permanent(format!(
                "event type {other:?} is not processed"
            )))
        }
    };

    let gate = posting::Gate {
        lease: shared.tuning.lease,
        shutdown: shared.shutdown.clone(),
        store: &shared.store,
    };
    match posting::deliver(&rt.zendesk, gate, e, ticket, &plan, &extras).await {
        Ok(posting::Delivered::AlreadyThere) => tracing::info!(
            id = e.id,
            ticket,
            "comment already on the ticket from an earlier attempt; not posting again"
        ),
        Ok(posting::Delivered::Posted { comments, attached }) => {
            tracing::debug!(id = e.id, ticket, comments, attached, "posted")
        }
        Err(posting::DeliverError::Released) => return Err(StepError::Released),
        Err(posting::DeliverError::Store(err)) => return Err(err.into()),
        // An answer that says when to come back (503 + Retry-After) was not applied: a wait.
        Err(posting::DeliverError::Zendesk(err))
            if err.may_have_applied() && err.retry_after().is_none() =>
        {
            return Err(StepError::Uncertain {
                retry_after: err.retry_after(),
                message: err.to_string(),
            })
        }
        Err(posting::DeliverError::Zendesk(err)) => {
            // Zendesk refuses any update of a closed ticket (422): leave it alone, say so.
            if let Some(note) =
                tickets::closed_after_refusal(&rt.zendesk, ticket, &err, &e.event_type).await
            {
                return Ok(Done::LeftAlone(ticket, note));
            }
            return Err(err.into());
        }
    }
    Ok(Done::Posted(ticket))
}

fn field(e: &StoredEvent, name: &str) -> Option<String> {
    e.fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Fetches the session report, waiting with backoff while `end_time` is missing (the report
/// can lag the end event by seconds).
async fn wait_for_report(shared: &Shared, rt: &Runtime, lsid: &str) -> Result<Session, StepError> {
    let checks = shared.tuning.report_wait_tries.max(1);
    // Whether the last check found the session at all ("No archives found" means "not yet"
    // for a session that just ended).
    let archived = std::sync::atomic::AtomicBool::new(false);
    let found = wait_bounded(&shared.tuning, shared.shutdown.clone(), || async {
        let session = rt.appliance.support_session(lsid).await?;
        archived.store(session.is_some(), std::sync::atomic::Ordering::Relaxed);
        Ok(session.filter(|s| s.end_time.is_some()))
    })
    .await?;
    found.ok_or_else(|| {
        StepError::Transient(if archived.load(std::sync::atomic::Ordering::Relaxed) {
            format!("session report for {lsid} is not complete yet (no end_time) after {checks} checks")
        } else {
            format!(
                "session report for {lsid} is not complete yet: the appliance answers \"No archives found\" after {checks} checks"
            )
        })
    })
}

/// Asks `fetch` until it finds what it looks for, sleeping `report_wait_base`, doubling up to
/// `report_wait_max_delay`, between checks: at most `report_wait_tries` checks, so a report that
/// never completes costs a bounded wait, then `Ok(None)`. Shutdown releases the event.
async fn wait_bounded<T, F, Fut>(
    t: &crate::app::Tuning,
    mut shutdown: watch::Receiver<bool>,
    mut fetch: F,
) -> Result<Option<T>, StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, StepError>>,
{
    let checks = t.report_wait_tries.max(1);
    let mut delay = t.report_wait_base;
    for check in 1..=checks {
        if let Some(found) = fetch().await? {
            return Ok(Some(found));
        }
        if check == checks {
            break;
        }
        tracing::debug!(check, "report not complete yet");
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return Err(StepError::Released),
        }
        delay = (delay * 2).min(t.report_wait_max_delay);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Tuning;

    fn tuning() -> Tuning {
        Tuning {
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(600),
            ..Tuning::default()
        }
    }

    #[test]
    fn backoff_doubles_per_attempt_within_equal_jitter_and_is_capped() {
        let t = tuning();
        for attempts in 0..12i64 {
            let full = (Duration::from_secs(5) * 2u32.pow(attempts as u32)).min(t.retry_max);
            for _ in 0..200 {
                let d = backoff(&t, attempts);
                assert!(
                    d >= full / 2 && d <= full,
                    "attempt {attempts}: {d:?} outside [{:?}, {full:?}]",
                    full / 2
                );
            }
        }
        // Absurd attempt counts neither overflow nor exceed the cap.
        assert!(backoff(&t, i64::MAX) <= t.retry_max);
        assert!(backoff(&t, -1) <= t.retry_base);
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_wait_checks_with_doubling_delays_until_found() {
        let t = Tuning {
            report_wait_base: Duration::from_secs(1),
            report_wait_max_delay: Duration::from_secs(3),
            report_wait_tries: 5,
            ..Tuning::default()
        };
        let (_tx, rx) = watch::channel(false);
        let calls = std::cell::Cell::new(0u32);
        let start = tokio::time::Instant::now();
        let found = wait_bounded(&t, rx.clone(), || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { Ok((n == 4).then_some(n)) }
        })
        .await
        .unwrap();
        assert_eq!(found, Some(4));
        // 1 s + 2 s + 3 s (capped) between the four checks.
        assert_eq!(start.elapsed(), Duration::from_secs(6));

        calls.set(0);
        let start = tokio::time::Instant::now();
        let never: Option<u32> = wait_bounded(&t, rx, || {
            calls.set(calls.get() + 1);
            async { Ok(None) }
        })
        .await
        .unwrap();
        assert_eq!((never, calls.get()), (None, 5), "five checks, then give up");
        assert_eq!(start.elapsed(), Duration::from_secs(1 + 2 + 3 + 3));
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_wait_releases_the_event_at_shutdown() {
        let (tx, rx) = watch::channel(false);
        let t = Tuning::default();
        let waiting = wait_bounded(&t, rx, || async { Ok(None::<()>) });
        let stop = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            tx.send(true).unwrap();
            std::future::pending::<()>().await
        };
        let outcome = tokio::select! {
            r = waiting => r,
            _ = stop => unreachable!(),
        };
        assert!(matches!(outcome, Err(StepError::Released)), "{outcome:?}");
    }

    #[test]
    fn backoff_is_jittered() {
        let t = tuning();
        let delays: std::collections::HashSet<Duration> = (0..50).map(|_| backoff(&t, 3)).collect();
        assert!(
            delays.len() > 10,
            "retries of many events must not fire in lockstep: {delays:?}"
        );
    }
}
