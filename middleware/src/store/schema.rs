//! Schema migrations, applied in order at start.
//!
//! Queries elsewhere are portable between SQLite and Postgres (`$N` placeholders, `RETURNING`,
//! `ON CONFLICT DO NOTHING`, integers for times); only DDL differs (auto-increment ids), so each
//! migration has one text per backend.

pub struct Migration {
    pub version: i64,
    pub sqlite: String,
    pub postgres: String,
}

const EVENTS_COMMON: &str = "
    configuration TEXT NOT NULL,
    appliance_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    lsid TEXT NOT NULL,
    event_timestamp TEXT NOT NULL,
    source TEXT NOT NULL,
    dedup_key TEXT NOT NULL UNIQUE,
    fields TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    throttled BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    claim_token BIGINT,
    last_error TEXT,
    ticket_id BIGINT,
    comment_marker TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL";

pub fn migrations() -> Vec<Migration> {
    vec![Migration {
        version: 1,
        sqlite: format!(
                "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, {EVENTS_COMMON});
                 CREATE UNIQUE INDEX IF NOT EXISTS events_redelivery ON events (appliance_id, event_type, lsid, event_timestamp);
                 CREATE INDEX IF NOT EXISTS events_due ON events (status, next_attempt_at);
                 CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id BIGINT NOT NULL REFERENCES events(id), at BIGINT NOT NULL, error TEXT NOT NULL);
                 CREATE INDEX IF NOT EXISTS attempts_event ON attempts (event_id);
                 CREATE TABLE IF NOT EXISTS poll_checkpoints (configuration TEXT PRIMARY KEY, end_time BIGINT NOT NULL, updated_at BIGINT NOT NULL)"
            ),
        postgres: format!(
                "CREATE TABLE IF NOT EXISTS events (id BIGSERIAL PRIMARY KEY, {EVENTS_COMMON});
                 CREATE UNIQUE INDEX IF NOT EXISTS events_redelivery ON events (appliance_id, event_type, lsid, event_timestamp);
                 CREATE INDEX IF NOT EXISTS events_due ON events (status, next_attempt_at);
                 CREATE TABLE IF NOT EXISTS attempts (id BIGSERIAL PRIMARY KEY, event_id BIGINT NOT NULL REFERENCES events(id), at BIGINT NOT NULL, error TEXT NOT NULL);
                 CREATE INDEX IF NOT EXISTS attempts_event ON attempts (event_id);
                 CREATE TABLE IF NOT EXISTS poll_checkpoints (configuration TEXT PRIMARY KEY, end_time BIGINT NOT NULL, updated_at BIGINT NOT NULL)"
            ),
    }, super::created::migration()]
}
