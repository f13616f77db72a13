//! Tickets the middleware created for unassociated sessions (migration 5), and events left
//! alone because their ticket is closed.
//!
//! The created ticket is recorded per session (appliance, lsid) as soon as Zendesk answers, so
//! the session's surveys find it and a later attempt never creates another one: Zendesk's
//! idempotency key covers the gap between the create call and this record, but only for two
//! hours.
//!
//! The full report attached to a created ticket is uploaded before the create call, and its
//! upload token (or "" when Zendesk refused the upload) is recorded per session first, so a
//! retry sends the same body again: Zendesk answers a repeated idempotency key with a
//! different body with an error, never with the ticket.

use super::{now_ms, Migration, Result, Store, StoredEvent};

pub(super) fn migration() -> Migration {
    let table = "CREATE TABLE IF NOT EXISTS created_tickets (appliance_id TEXT NOT NULL, lsid TEXT NOT NULL, \
                 configuration TEXT NOT NULL, ticket_id BIGINT NOT NULL, event_id BIGINT NOT NULL, \
                 created_at BIGINT NOT NULL, PRIMARY KEY (appliance_id, lsid));
                 CREATE TABLE IF NOT EXISTS create_uploads (appliance_id TEXT NOT NULL, lsid TEXT NOT NULL, \
                 token TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (appliance_id, lsid))";
    Migration {
        version: 5,
        sqlite: table.to_string(),
        postgres: table.to_string(),
    }
}

fn ticket_of(row: Option<sqlx::any::AnyRow>) -> Result<Option<u64>> {
    use sqlx::Row;
    Ok(match row {
        Some(r) => Some(r.try_get::<i64, _>("ticket_id")? as u64),
        None => None,
    })
}

impl Store {
    /// Records the ticket created for the event's session (the first record wins).
    pub async fn record_created_ticket(&self, e: &StoredEvent, ticket_id: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO created_tickets (appliance_id, lsid, configuration, ticket_id, event_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(e.appliance_id.to_ascii_lowercase())
        .bind(&e.lsid)
        .bind(&e.configuration)
        .bind(ticket_id as i64)
        .bind(e.id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The ticket created for a session, if any.
    pub async fn created_ticket(&self, appliance_id: &str, lsid: &str) -> Result<Option<u64>> {
        let row = sqlx::query(
            "SELECT ticket_id FROM created_tickets WHERE appliance_id = $1 AND lsid = $2",
        )
        .bind(appliance_id.to_ascii_lowercase())
        .bind(lsid)
        .fetch_optional(&self.pool)
        .await?;
        ticket_of(row)
    }

    /// Whether this event created its ticket (the admin links such events as "created ticket #N").
    pub async fn created_by_event(&self, event_id: i64) -> Result<Option<u64>> {
        let row = sqlx::query("SELECT ticket_id FROM created_tickets WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        ticket_of(row)
    }

    /// The upload token recorded for the session's created ticket: `Some("")` when Zendesk
    /// refused the upload (the report goes in parts), `None` when nothing was uploaded yet.
    pub async fn create_upload(&self, appliance_id: &str, lsid: &str) -> Result<Option<String>> {
        use sqlx::Row;
        let row =
            sqlx::query("SELECT token FROM create_uploads WHERE appliance_id = $1 AND lsid = $2")
                .bind(appliance_id.to_ascii_lowercase())
                .bind(lsid)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<String, _>("token")?),
            None => None,
        })
    }

    /// Records the upload token (or "" for a refused upload) before the create call uses it.
    pub async fn record_create_upload(&self, e: &StoredEvent, token: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO create_uploads (appliance_id, lsid, token, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (appliance_id, lsid) DO UPDATE SET token = excluded.token, created_at = excluded.created_at",
        )
        .bind(e.appliance_id.to_ascii_lowercase())
        .bind(&e.lsid)
        .bind(token)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the session's upload token (Zendesk no longer knows it: upload again).
    pub async fn clear_create_upload(&self, e: &StoredEvent) -> Result<()> {
        sqlx::query("DELETE FROM create_uploads WHERE appliance_id = $1 AND lsid = $2")
            .bind(e.appliance_id.to_ascii_lowercase())
            .bind(&e.lsid)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Finishes an event without touching its ticket (status `skipped`, `note` says why).
    pub async fn mark_left_alone(
        &self,
        e: &StoredEvent,
        ticket_id: u64,
        note: &str,
    ) -> Result<bool> {
        self.update_claimed(
            e,
            "status = 'skipped', lease_until = NULL, last_error = $4, ticket_id = $5, comment_marker = NULL",
            vec![Some(note.into())],
            vec![Some(ticket_id as i64)],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::tests::temp_db_url;
    use super::super::{NewEvent, Source, Status, Store};

    #[tokio::test]
    async fn first_created_ticket_of_a_session_wins_and_left_alone_events_keep_their_note() {
        let url = temp_db_url("created");
        let store = Store::connect(&url).await.unwrap();
        let new = NewEvent {
            configuration: "P".into(),
            appliance_id: "Default".into(),
            event_type: crate::config::SESSION_END.into(),
            lsid: "l1".into(),
            event_timestamp: "100".into(),
            source: Source::Outbound,
            fields: vec![],
            status: Status::Received,
            note: None,
        };
        store.insert_event(&new).await.unwrap();
        let e = store
            .claim_due(Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.created_ticket("default", "l1").await.unwrap(), None);
        store.record_created_ticket(&e, 7).await.unwrap();
        store.record_created_ticket(&e, 8).await.unwrap();
        assert_eq!(
            store.created_ticket("DEFAULT", "l1").await.unwrap(),
            Some(7),
            "one ticket per session; appliance ids compare case-insensitively"
        );
        assert_eq!(store.created_ticket("default", "l2").await.unwrap(), None);
        assert_eq!(store.created_by_event(e.id).await.unwrap(), Some(7));
        assert_eq!(store.create_upload("default", "l1").await.unwrap(), None);
        store.record_create_upload(&e, "tok1").await.unwrap();
        store.record_create_upload(&e, "tok2").await.unwrap();
        assert_eq!(
            store
                .create_upload("DEFAULT", "l1")
                .await
                .unwrap()
                .as_deref(),
            Some("tok2")
        );
        store.clear_create_upload(&e).await.unwrap();
        assert_eq!(store.create_upload("default", "l1").await.unwrap(), None);
        assert!(store
            .mark_left_alone(&e, 7, "ticket #7 is closed")
            .await
            .unwrap());
        let after = store.event(e.id).await.unwrap().unwrap();
        assert_eq!(
            (after.status, after.ticket_id, after.last_error.as_deref()),
            (Status::Skipped, Some(7), Some("ticket #7 is closed"))
        );
        store.close().await;
        crate::testing::remove_sqlite_files(&url);
    }
}
