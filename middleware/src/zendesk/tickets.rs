//! Ticket creation with an idempotency key, and a ticket's status (survey rules, closed tickets).

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::{ZendeskClient, ZendeskError};
use crate::beyondtrust::client::describe_reqwest;

/// A ticket Zendesk created (or, for a repeated key, had already created).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    pub ticket_id: u64,
    /// `x-idempotency-lookup: hit`: an earlier request with this key created it.
    pub replayed: bool,
}

#[derive(Deserialize)]
struct TicketAnswer {
    ticket: TicketInfo,
}

#[derive(Deserialize)]
struct TicketInfo {
    id: u64,
    #[serde(default)]
    status: Option<String>,
}

fn unreadable(e: reqwest::Error) -> ZendeskError {
    // The request reached Zendesk: it may have been applied.
    ZendeskError::Transient {
        message: format!("answer unreadable: {}", describe_reqwest(e)),
        sent: true,
        retry_after: None,
    }
}

impl ZendeskClient {
    /// `POST /api/v2/tickets.json` with `Idempotency-Key`: a retry with the same key and body
    /// returns the ticket the first request created; a different body with the same key is a
    /// permanent error (400 `IdempotentRequestError`).
    pub async fn create_ticket(
        &self,
        body: &Value,
        idempotency_key: &str,
    ) -> Result<Created, ZendeskError> {
        let url = format!("{}/api/v2/tickets.json", self.base);
        let resp = self
            .send(
                self.request(Method::POST, &url)
                    .header("Idempotency-Key", idempotency_key)
                    .json(body),
            )
            .await?;
        let replayed = resp
            .headers()
            .get("x-idempotency-lookup")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("hit"));
        let answer: TicketAnswer = resp.json().await.map_err(unreadable)?;
        Ok(Created {
            ticket_id: answer.ticket.id,
            replayed,
        })
    }

    /// The ticket's status (`new`, `open`, `pending`, `hold`, `solved`, `closed`).
    pub async fn ticket_status(&self, ticket_id: u64) -> Result<String, ZendeskError> {
        let url = format!("{}/api/v2/tickets/{ticket_id}.json", self.base);
        let resp = self.send(self.request(Method::GET, &url)).await?;
        let answer: TicketAnswer = resp.json().await.map_err(unreadable)?;
        Ok(answer.ticket.status.unwrap_or_default())
    }
}
