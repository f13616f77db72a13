//! Issue 15's I/O in the worker: creating the ticket of an unassociated session, applying survey
//! rules in the survey's own update, and leaving closed tickets alone.

use serde_json::Value;

use super::{Done, StepError};
use crate::app::{Runtime, Shared};
use crate::beyondtrust::{ExitSurvey, Session};
use crate::config::DurationUnit;
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

/// Creates the ticket of a session that names none, its report as the first private comment.
///
/// Safe to repeat: a ticket already recorded for the session is reused, and the creation carries
/// an idempotency key derived from the session, so a retry after a lost answer or a crash gets
/// the ticket the first attempt created.
pub(super) async fn create_for_session(
    shared: &Shared,
    rt: &Runtime,
    e: &StoredEvent,
    session: &Session,
) -> Result<Done, StepError> {
    if let Some(ticket) = shared
        .store
        .created_ticket(&e.appliance_id, &e.lsid)
        .await?
    {
        tracing::info!(
            id = e.id,
            ticket,
            "ticket for this session was created earlier"
        );
        return Ok(Done::Created(ticket));
    }
    let view = render::session_view(session, &rt.cfg.appliance_id);
    let html = shared
        .renderer
        .render(Template::Session, &view)
        .map_err(|e| StepError::Permanent(e.to_string()))?;
    let marker = render::event_marker(&e.appliance_id, &e.lsid, &e.event_type, &e.event_timestamp);
    let html = render::with_marker(&html, &marker);
    let settings = &rt.cfg.zendesk.tickets;
    let ticket = unassociated::new_ticket(
        session,
        settings,
        &rt.cfg.zendesk.tags,
        html,
        duration_fields(rt, session),
    )
    .ok_or_else(|| {
        StepError::Permanent(
            "session has no customer e-mail and no default_requester_email is configured".into(),
        )
    })?;
    let key = unassociated::idempotency_key(&e.appliance_id, &e.lsid);
    let created = rt
        .zendesk
        .create_ticket(&unassociated::request_body(&ticket), &key)
        .await?;
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
    Ok(Done::Created(created.ticket_id))
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

/// Posts the comment, with the survey rules' change in the same update when there is one.
pub(super) async fn post(
    zd: &ZendeskClient,
    ticket: u64,
    html: &str,
    custom_fields: &[(u64, Value)],
    change: Option<&TicketChange>,
) -> Result<(), ZendeskError> {
    match change.filter(|c| c.status.is_some() || !c.add_tags.is_empty()) {
        Some(c) => {
            zd.add_private_comment_with_change(
                ticket,
                html,
                custom_fields,
                c.status.as_deref(),
                &c.add_tags,
            )
            .await
        }
        None => zd.add_private_comment(ticket, html, custom_fields).await,
    }
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
