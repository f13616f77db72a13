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

/// Version 2: the retry window restarts when an operator requeues (`retry_from`); skipped
/// events get keys of their own so they never hide a processed duplicate (a polled session end).
const V2: &str = "ALTER TABLE events ADD COLUMN retry_from BIGINT;
    UPDATE events SET dedup_key = 'skipped|' || dedup_key || '|' || event_timestamp WHERE status = 'skipped' AND dedup_key NOT LIKE 'skipped|%'";

pub fn migrations() -> Vec<Migration> {
    vec![
        Migration {
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
    },
        Migration {
            version: 2,
            sqlite: V2.into(),
            postgres: V2.into(),
        },
        Migration {
            version: 3,
            sqlite: BUDGET.into(),
            postgres: BUDGET.into(),
        },
        configurations_migration(),
        super::created::migration(),
    ]
}

/// Version 4 (issue 13): plugin configurations in the database. `body` is the configuration's
/// JSON document (secrets included; the admin never sends them back); `configuration_state`
/// holds the generation every change bumps and when the TOML file was imported.
fn configurations_migration() -> Migration {
    let text = "CREATE TABLE IF NOT EXISTS configurations (name TEXT PRIMARY KEY, position BIGINT NOT NULL, body TEXT NOT NULL, updated_at BIGINT NOT NULL);
         CREATE UNIQUE INDEX IF NOT EXISTS configurations_name_ci ON configurations (lower(name));
         CREATE TABLE IF NOT EXISTS configuration_state (id BIGINT PRIMARY KEY, generation BIGINT NOT NULL, imported_at BIGINT)";
    Migration {
        version: 4,
        sqlite: text.to_string(),
        postgres: text.to_string(),
    }
}

/// The Zendesk update budget shared by every instance (see `crate::budget`).
const BUDGET: &str = "CREATE TABLE IF NOT EXISTS zendesk_budget (account TEXT PRIMARY KEY, tat BIGINT NOT NULL, paused_until BIGINT NOT NULL)";
