//! Issue 15's I/O in the worker: creating the ticket of an unassociated session, applying survey
//! rules in the survey's own update, and leaving closed tickets alone.

use serde_json::Value;

use super::{Done, StepError};
use crate::app::{Runtime, Shared};
use crate::beyondtrust::{ExitSurvey, Session};
use crate::config::DurationUnit;
use crate::posting::{self, Plan};
use crate::render::{self, Template};
use crate::store::StoredEvent;
use crate::survey_rules::{self, Decision, TicketChange};
use crate::unassociated;
use crate::zendesk::{ZendeskClient, ZendeskError};

/// What the event log says when a closed ticket is left alone.
pub(super) fn closed_note(ticket: u64, event_type: &str) -> String {
    let what = match event_type {
        crate::config::CUSTOMER_SURVEY => "customer exit survey",
        crate::config::REP_SURVEY => "representative exit survey",
        _ => "session report",
    };
    format!(
        "ticket #{ticket} is closed: Zendesk accepts no changes to a closed ticket, so the {what} \
         was not posted and the ticket was left as it is"
    )
}

/// The numeric duration field of the configuration, as the session's comment sets it.
fn duration_fields(rt: &Runtime, session: &Session) -> Vec<(u64, Value)> {
    let z = &rt.cfg.zendesk;
    match (z.duration_field_id, session.duration_secs()) {
        (Some(field), Some(secs)) => {
            let value = match z.duration_field_unit {
                DurationUnit::Seconds => secs,
                DurationUnit::Minutes => secs.div_ceil(60),
            };
            vec![(field, Value::from(value))]
        }
        _ => Vec::new(),
    }
}

/// The first comment of a created ticket and the parts still to post after it.
struct FirstComment {
    html: String,
    uploads: Vec<String>,
    /// The whole report in parts when the first comment is its part 1 (else empty).
    parts: Vec<posting::PlannedComment>,
}

/// The report as the created ticket's first comment, by the same size rules as other reports:
/// one comment; or a trimmed comment with the full report attached (uploaded first, its token
/// recorded before the create call so a retry sends the same body); or, when the upload is
/// refused or nothing can be attached, part 1 of the report (the other parts follow as updates).
async fn first_comment(
    shared: &Shared,
    rt: &Runtime,
    e: &StoredEvent,
    plan: &Plan,
) -> Result<FirstComment, StepError> {
    let split = |parts: &[posting::PlannedComment]| FirstComment {
        html: parts[0].html.clone(),
        uploads: Vec::new(),
        parts: parts.to_vec(),
    };
    match plan {
        Plan::Single(c) => Ok(FirstComment {
            html: c.html.clone(),
            uploads: Vec::new(),
            parts: Vec::new(),
        }),
        Plan::Split(parts) => Ok(split(parts)),
        Plan::Attached {
            file,
            comment,
            fallback,
        } => {
            let token = match shared.store.create_upload(&e.appliance_id, &e.lsid).await? {
                Some(token) => token,
                None => {
                    let token = match rt
                        .zendesk
                        .upload(
                            &file.name,
                            "text/html; charset=utf-8",
                            file.html.clone().into_bytes(),
                        )
                        .await
                    {
                        Ok(token) => token,
                        Err(ZendeskError::Permanent { status, message }) => {
                            tracing::warn!(
                                id = e.id,
                                status,
                                error = %message,
                                "Zendesk refused the report attachment; the new ticket gets the report in parts"
                            );
                            String::new()
                        }
                        Err(other) => return Err(other.into()),
                    };
                    shared.store.record_create_upload(e, &token).await?;
                    token
                }
            };
            if token.is_empty() {
                return Ok(split(fallback));
            }
            Ok(FirstComment {
                html: comment.html.clone(),
                uploads: vec![token],
                parts: Vec::new(),
            })
        }
    }
}

/// Creates the ticket of a session that names none, its report as the first private comment.
///
/// Safe to repeat: a ticket already recorded for the session is reused, and the creation carries
/// an idempotency key derived from the session (with the same body on every attempt), so a retry
/// after a lost answer or a crash gets the ticket the first attempt created. A report in parts
/// has part 1 in the creation and the others posted as updates, each with its own record.
pub(super) async fn create_for_session(
    shared: &Shared,
    rt: &Runtime,
    e: &StoredEvent,
    session: &Session,
) -> Result<Done, StepError> {
    let view = render::session_view(session, &rt.cfg.appliance_id);
    let mut record =
        render::event_record(&e.appliance_id, &e.lsid, &e.event_type, &e.event_timestamp);
    record.start = view.start_iso.clone();
    record.duration_secs = view.duration_secs;
    record.rep = view.primary_rep.clone();
    record.survey = render::view::rating(&session.customer_survey);
    let plan = posting::plan_session(
        &view,
        &record,
        &rt.cfg.zendesk.system_information_categories,
        rt.cfg.zendesk.comment_max_chars,
        |v| shared.renderer.render(Template::Session, v),
    )
    .map_err(|e| StepError::Permanent(e.to_string()))?;
    let recorded = shared
        .store
        .created_ticket(&e.appliance_id, &e.lsid)
        .await?;
    let (ticket, parts) = match recorded {
        Some(ticket) => {
            tracing::info!(
                id = e.id,
                ticket,
                "ticket for this session was created earlier"
            );
            // Whether the creation carried part 1 only: the ticket's comments tell.
            let parts = match &plan {
                Plan::Single(_) => Vec::new(),
                Plan::Split(parts) => parts.clone(),
                Plan::Attached { fallback, .. } => fallback.clone(),
            };
            (ticket, parts)
        }
        None => {
            let first = first_comment(shared, rt, e, &plan).await?;
            let settings = &rt.cfg.zendesk.tickets;
            let mut ticket = unassociated::new_ticket(
                session,
                settings,
                &rt.cfg.zendesk.tags,
                first.html,
                duration_fields(rt, session),
            )
            .ok_or_else(|| {
                StepError::Permanent(
                    "session has no customer e-mail and no default_requester_email is configured"
                        .into(),
                )
            })?;
            ticket.uploads = first.uploads.clone();
            let key = unassociated::idempotency_key(&e.appliance_id, &e.lsid);
            let created = match rt
                .zendesk
                .create_ticket(&unassociated::request_body(&ticket), &key)
                .await
            {
                Ok(c) => c,
                Err(err) => {
                    if !first.uploads.is_empty()
                        && matches!(err, ZendeskError::Permanent { status: 422, .. })
                    {
                        // The token may have expired before the ticket was created: upload
                        // again next time.
                        shared.store.clear_create_upload(e).await?;
                        return Err(StepError::Transient(err.to_string()));
                    }
                    return Err(err.into());
                }
            };
            if created.replayed {
                tracing::info!(
                    id = e.id,
                    ticket = created.ticket_id,
                    "Zendesk returned the ticket an earlier attempt created (idempotency key)"
                );
            }
            shared
                .store
                .record_created_ticket(e, created.ticket_id)
                .await?;
            (created.ticket_id, first.parts)
        }
    };
    if parts.len() > 1 {
        post_remaining_parts(shared, rt, e, ticket, parts).await?;
    }
    Ok(Done::Created(ticket))
}

/// Posts the parts of the report after part 1 (which the creation carried), each once: the
/// ticket's comments are searched for the session records first, as after an uncertain attempt.
/// When the creation carried the whole report (a comment with the attachment), nothing is posted.
async fn post_remaining_parts(
    shared: &Shared,
    rt: &Runtime,
    e: &StoredEvent,
    ticket: u64,
    parts: Vec<posting::PlannedComment>,
) -> Result<(), StepError> {
    let identity = app_core::marker::Marker {
        part: None,
        ..parts[0].record.clone()
    };
    let searched = StoredEvent {
        comment_marker: Some(identity.key()),
        ..e.clone()
    };
    let gate = posting::Gate {
        lease: shared.tuning.lease,
        shutdown: shared.shutdown.clone(),
        store: &shared.store,
    };
    let plan = Plan::Split(parts);
    match posting::deliver(
        &rt.zendesk,
        gate,
        &searched,
        ticket,
        &plan,
        &posting::Extras::default(),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(posting::DeliverError::Released) => Err(StepError::Released),
        Err(posting::DeliverError::Store(err)) => Err(err.into()),
        Err(posting::DeliverError::Zendesk(err))
            if err.may_have_applied() && err.retry_after().is_none() =>
        {
            Err(StepError::Uncertain {
                retry_after: None,
                message: err.to_string(),
            })
        }
        Err(posting::DeliverError::Zendesk(err)) => Err(err.into()),
    }
}

/// The survey rules' change for `ticket` (reads its status only when a rule matches).
pub(super) async fn survey_change(
    rt: &Runtime,
    ticket: u64,
    surveys: &[ExitSurvey],
) -> Result<Decision, StepError> {
    let matched = survey_rules::matching(&rt.cfg.zendesk.tickets.survey_rules, surveys);
    if matched.is_empty() {
        return Ok(Decision::Change(TicketChange::default()));
    }
    let status = rt.zendesk.ticket_status(ticket).await?;
    Ok(survey_rules::decide(&matched, &status))
}

/// After Zendesk refused an update (422): whether the ticket is closed, and the note saying so.
pub(super) async fn closed_after_refusal(
    zd: &ZendeskClient,
    ticket: u64,
    err: &ZendeskError,
    event_type: &str,
) -> Option<String> {
    if !matches!(err, ZendeskError::Permanent { status: 422, .. }) {
        return None;
    }
    match zd.ticket_status(ticket).await {
        Ok(status) if status == "closed" => Some(closed_note(ticket, event_type)),
        _ => None,
    }
}
