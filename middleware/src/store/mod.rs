//! Durable event queue and polling checkpoints (sqlx `AnyPool`: SQLite by default, Postgres
//! when scaling out).
//!
//! An event row moves `received` -> `processing` -> `done` | `unassociated` | `failed`, or back
//! to `retry` with a later `next_attempt_at`. Unprocessed event types are stored as `skipped`.
//! A claim is a lease: a worker that dies leaves `processing` with an expired `lease_until`,
//! and the row is claimed again; `claim_token` keeps a late worker from overwriting the new
//! claimant's outcome. `comment_marker` is written just before a comment is posted and cleared
//! when Zendesk definitely rejected it, so a set marker means "may already be on the ticket".
//! A SQLite file has one owning process (see `owner.rs`); Postgres is shared when scaling out.

mod created;
mod group;
mod ops;
mod owner;
mod schema;

use schema::Migration;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(String),
    /// Another live process owns this SQLite file (see `owner.rs`).
    #[error(
        "the SQLite database {path} is in use by another middleware process (its lock file {lock} is held); \
         stop that process first or give this one another database_url. Nothing was changed"
    )]
    InUse { path: String, lock: String },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Received,
    Retry,
    Skipped,
    Processing,
    Done,
    Failed,
    Unassociated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Retry => "retry",
            Self::Skipped => "skipped",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Unassociated => "unassociated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => Self::Received,
            "retry" => Self::Retry,
            "skipped" => Self::Skipped,
            "processing" => Self::Processing,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "unassociated" => Self::Unassociated,
            _ => return None,
        })
    }
}

/// Where an event came from: the appliance's outbound events or our own polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Outbound,
    Polling,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbound => "outbound",
            Self::Polling => "polling",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub configuration: String,
    pub appliance_id: String,
    pub event_type: String,
    pub lsid: String,
    pub event_timestamp: String,
    pub source: Source,
    /// All form fields as received.
    pub fields: Vec<(String, String)>,
    /// `Received` (to process), `Skipped` or `Failed` (recorded only).
    pub status: Status,
    pub note: Option<String>,
}

impl NewEvent {
    /// Redeliveries share (appliance, event, lsid, timestamp). A session ends once, so session
    /// ends share (appliance, event, lsid) whatever their timestamp: that is what de-duplicates
    /// polled ends against outbound ones.
    ///
    /// A `skipped` event (a type this configuration does not process) must not stand in for the
    /// one that is processed, e.g. a polled session end: its key is its own.
    fn dedup_key(&self) -> String {
        let appliance = self.appliance_id.to_ascii_lowercase();
        if self.status == Status::Skipped {
            format!(
                "skipped|{appliance}|{}|{}|{}",
                self.event_type, self.lsid, self.event_timestamp
            )
        } else if self.event_type == crate::config::SESSION_END && !self.lsid.is_empty() {
            format!("{appliance}|{}|{}", self.event_type, self.lsid)
        } else {
            format!(
                "{appliance}|{}|{}|{}",
                self.event_type, self.lsid, self.event_timestamp
            )
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    Duplicate,
}

#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub configuration: String,
    pub appliance_id: String,
    pub event_type: String,
    pub lsid: String,
    pub event_timestamp: String,
    pub source: Source,
    pub fields: Vec<(String, String)>,
    pub status: Status,
    /// Failed attempts so far (counted against `retry_attempt_limit`).
    pub attempts: i64,
    /// 429 answers so far (not counted as failures, but bounded).
    pub throttled: i64,
    pub next_attempt_at: i64,
    pub claim_token: Option<i64>,
    pub last_error: Option<String>,
    pub ticket_id: Option<i64>,
    pub comment_marker: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Start of the retry window: when the event arrived, or when an operator requeued it.
    pub retry_from: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: i64,
    pub error: String,
}

const COLUMNS: &str = "id, configuration, appliance_id, event_type, lsid, event_timestamp, source, fields, status, \
     attempts, throttled, next_attempt_at, claim_token, last_error, ticket_id, comment_marker, created_at, updated_at, retry_from";

fn row_to_event(row: &AnyRow) -> Result<StoredEvent> {
    let fields: String = row.try_get("fields")?;
    let fields: Vec<(String, String)> = serde_json::from_str(&fields).unwrap_or_default();
    let status: String = row.try_get("status")?;
    let source: String = row.try_get("source")?;
    Ok(StoredEvent {
        id: row.try_get("id")?,
        configuration: row.try_get("configuration")?,
        appliance_id: row.try_get("appliance_id")?,
        event_type: row.try_get("event_type")?,
        lsid: row.try_get("lsid")?,
        event_timestamp: row.try_get("event_timestamp")?,
        source: if source == "polling" {
            Source::Polling
        } else {
            Source::Outbound
        },
        fields,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Db(format!("unknown status {status:?}")))?,
        attempts: row.try_get("attempts")?,
        throttled: row.try_get("throttled")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        claim_token: row.try_get("claim_token")?,
        last_error: row.try_get("last_error")?,
        ticket_id: row.try_get("ticket_id")?,
        comment_marker: row.try_get("comment_marker")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        retry_from: row
            .try_get::<Option<i64>, _>("retry_from")?
            .unwrap_or(row.try_get("created_at")?),
    })
}

/// Condition on `events e`: not a survey whose session's end event is still pending.
const NOT_WAITING_FOR_SESSION_END: &str =
    "(e.event_type = 'support_conference_end' OR NOT EXISTS (\
     SELECT 1 FROM events p WHERE p.appliance_id = e.appliance_id AND p.lsid = e.lsid \
     AND p.event_type = 'support_conference_end' AND p.id < e.id \
     AND p.status IN ('received', 'retry', 'processing')))";

/// Advisory lock key serialising migrations between instances (arbitrary, fixed).
const MIGRATION_LOCK: i64 = 0x7273_7a5f_6d69_6772; // "rsz_migr"

/// Milliseconds since the Unix epoch (the unit of every time column).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// SQLite only: this process's ownership of the file, held until [`Store::close`].
    owner: std::sync::Arc<tokio::sync::Mutex<Option<owner::OwnerLock>>>,
    /// Shared-transaction writer for `insert_event` (see [`group`]).
    committer: group::Committer,
    postgres: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Connects and applies migrations. `url`: `sqlite://FILE?mode=rwc` or `postgres://...`.
    ///
    /// A SQLite file is owned by one process: when another live process owns it this fails with
    /// [`StoreError::InUse`] before reading or writing anything in it.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, Duration::ZERO).await
    }

    /// Opens the database without taking ownership of a SQLite file: no migrations, no claim
    /// changes. For looking into a database a `serve` may own (`check`, `config export`) and
    /// for tests that play a second process on one file.
    pub async fn open_unowned(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        let postgres = !url.starts_with("sqlite:");
        Ok(Self {
            committer: group::Committer::spawn(pool.clone()),
            pool,
            owner: std::sync::Arc::new(tokio::sync::Mutex::new(None)),
            postgres,
        })
    }

    /// [`connect`](Self::connect); claims a crashed process left on a SQLite file become due
    /// `uncertain_wait` later (an update that process sent may still be applied late).
    pub async fn connect_with(url: &str, uncertain_wait: Duration) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let owner = if sqlite {
            owner::acquire(url).await?
        } else {
            None
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        if sqlite {
            // WAL lets the ingest path write while workers read; the busy timeout (sqlx default
            // 5 s) covers writer contention.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        let committer = group::Committer::spawn(pool.clone());
        let store = Self {
            pool,
            owner: std::sync::Arc::new(tokio::sync::Mutex::new(owner)),
            committer,
            postgres: !sqlite,
        };
        store.migrate(sqlite).await?;
        if sqlite {
            store.release_orphaned_claims(uncertain_wait).await?;
        }
        Ok(store)
    }

    /// Makes events claimed by a previous, crashed process due again at once.
    ///
    /// A SQLite file belongs to one middleware process, so at start every `processing` claim
    /// in it is a dead process's: waiting for its lease to expire (minutes) would only delay the
    /// report. The comment marker stays, so the worker still looks for a comment that process
    /// may already have posted before posting again, and that look waits `uncertain_wait`
    /// (Zendesk may apply an update the dead process sent late). PostgreSQL is shared by several
    /// processes when scaling out: there, claims are only retaken when their lease expires.
    async fn release_orphaned_claims(&self, uncertain_wait: Duration) -> Result<u64> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE events SET status = 'received', lease_until = NULL, updated_at = $1, \
             next_attempt_at = CASE WHEN comment_marker IS NULL THEN $1 ELSE $2 END WHERE status = 'processing'",
        )
        .bind(now)
        .bind(now + uncertain_wait.as_millis() as i64)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Applies pending migrations in one transaction. On Postgres the transaction first takes
    /// an advisory lock, so replicas starting together apply them once, one after the other,
    /// instead of racing on `CREATE TABLE` (the losers then find every version applied).
    async fn migrate(&self, sqlite: bool) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if !sqlite {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await?;
        for m in schema::migrations() {
            let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                continue;
            }
            let text = if sqlite { &m.sqlite } else { &m.postgres };
            for stmt in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(stmt).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(m.version)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The pool, for the modules that keep their own tables (configurations).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the pool and gives up ownership of a SQLite file.
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(lock) = self.owner.lock().await.take() {
            lock.release().await;
        }
    }

    /// Stores an event unless an equivalent one is already stored. Concurrent calls share one
    /// transaction (group commit); the answer comes only after that transaction committed.
    pub async fn insert_event(&self, e: &NewEvent) -> Result<Inserted> {
        match self.committer.insert(e).await {
            Some(answer) => answer,
            None => Ok(group::insert_batch(&self.pool, std::slice::from_ref(e))
                .await?
                .remove(0)),
        }
    }

    /// Stores several events in one transaction, one answer per event (in order).
    pub async fn insert_events(&self, events: &[NewEvent]) -> Result<Vec<Inserted>> {
        group::insert_batch(&self.pool, events).await
    }

    /// Group-commit transactions committed by this store's ingest path so far.
    pub fn group_commits(&self) -> u64 {
        self.committer.commits()
    }

    /// Whether this store is a (shared) PostgreSQL database rather than a SQLite file.
    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// Atomically claims the oldest due event (or one whose lease expired) for `lease`.
    ///
    /// A survey waits while the same session's end event is still pending, so the session
    /// comment lands on the ticket before the survey comments.
    pub async fn claim_due(&self, lease: Duration) -> Result<Option<StoredEvent>> {
        let now = now_ms();
        let token: i64 = rand::random::<i64>() & i64::MAX;
        let due = "((status IN ('received', 'retry') AND next_attempt_at <= $2) \
                   OR (status = 'processing' AND lease_until <= $2))";
        // Postgres with several instances: skip rows another worker is claiming right now
        // instead of queueing behind its row lock and then finding the row taken (and nothing).
        let skip_locked = if self.postgres {
            " FOR UPDATE OF e SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE events SET status = 'processing', lease_until = $1, claim_token = $3, updated_at = $2 \
             WHERE id = (SELECT e.id FROM events e WHERE {} AND {} ORDER BY e.next_attempt_at, e.id LIMIT 1{skip_locked}) AND {due} \
             RETURNING {COLUMNS}",
            due.replace("status", "e.status").replace("next_attempt_at", "e.next_attempt_at").replace("lease_until", "e.lease_until"),
            NOT_WAITING_FOR_SESSION_END,
        );
        let row = sqlx::query(&sql)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .bind(token)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_to_event).transpose()
    }

    /// When the next event becomes due (or a lease expires); `None` when nothing is pending.
    pub async fn next_due_at(&self) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT MIN(t) AS t FROM (\
               SELECT e.next_attempt_at AS t FROM events e WHERE e.status IN ('received', 'retry') AND {NOT_WAITING_FOR_SESSION_END} \
               UNION ALL SELECT lease_until AS t FROM events WHERE status = 'processing' AND lease_until IS NOT NULL) AS due"
        );
        let row = sqlx::query(&sql).fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>("t")?)
    }

    async fn update_claimed(
        &self,
        e: &StoredEvent,
        set: &str,
        binds: Vec<Option<String>>,
        ints: Vec<Option<i64>>,
    ) -> Result<bool> {
        // $1 = id, $2 = claim token, $3 = now, then the strings, then the integers.
        let sql = format!("UPDATE events SET {set}, updated_at = $3 WHERE id = $1 AND claim_token = $2 AND status = 'processing'");
        let mut q = sqlx::query(&sql)
            .bind(e.id)
            .bind(e.claim_token)
            .bind(now_ms());
        for b in binds {
            q = q.bind(b);
        }
        for i in ints {
            q = q.bind(i);
        }
        Ok(q.execute(&self.pool).await?.rows_affected() == 1)
    }

    /// Extends a claim's lease to `lease` from now, if the claim is still ours. Workers renew
    /// while they work and right before a ticket update, so an event is never taken over while
    /// its update may still be in flight.
    pub async fn renew_lease(&self, e: &StoredEvent, lease: Duration) -> Result<bool> {
        self.update_claimed(
            e,
            "lease_until = $4",
            vec![],
            vec![Some(now_ms() + lease.as_millis() as i64)],
        )
        .await
    }

    /// Records that a comment carrying `marker` is about to be posted (outcome uncertain until
    /// `mark_done` or `clear_marker`).
    pub async fn set_marker(&self, e: &StoredEvent, marker: &str, ticket_id: u64) -> Result<bool> {
        self.update_claimed(
            e,
            "comment_marker = $4, ticket_id = $5",
            vec![Some(marker.into())],
            vec![Some(ticket_id as i64)],
        )
        .await
    }

    /// Zendesk definitely did not store the comment.
    pub async fn clear_marker(&self, e: &StoredEvent) -> Result<bool> {
        self.update_claimed(e, "comment_marker = NULL", vec![], vec![])
            .await
    }

    pub async fn mark_done(&self, e: &StoredEvent, ticket_id: Option<u64>) -> Result<bool> {
        self.update_claimed(
            e,
            "status = 'done', lease_until = NULL, last_error = NULL, ticket_id = COALESCE($4, ticket_id)",
            vec![],
            vec![ticket_id.map(|t| t as i64)],
        )
        .await
    }

    pub async fn mark_unassociated(&self, e: &StoredEvent, reason: &str) -> Result<bool> {
        self.update_claimed(
            e,
            "status = 'unassociated', lease_until = NULL, last_error = $4",
            vec![Some(reason.into())],
            vec![],
        )
        .await
    }

    pub async fn mark_failed(&self, e: &StoredEvent, error: &str) -> Result<bool> {
        self.record_attempt(e.id, error).await?;
        self.update_claimed(
            e,
            "status = 'failed', lease_until = NULL, last_error = $4, attempts = attempts + 1",
            vec![Some(error.into())],
            vec![],
        )
        .await
    }

    /// Schedules another attempt at `at_ms`. `throttled` marks a 429 (counted separately).
    pub async fn schedule_retry(
        &self,
        e: &StoredEvent,
        at_ms: i64,
        error: &str,
        throttled: bool,
    ) -> Result<bool> {
        self.record_attempt(e.id, error).await?;
        crate::metrics::retry();
        let counter = if throttled {
            "throttled = throttled + 1"
        } else {
            "attempts = attempts + 1"
        };
        self.update_claimed(
            e,
            &format!("status = 'retry', lease_until = NULL, last_error = $4, next_attempt_at = $5, {counter}"),
            vec![Some(error.into())],
            vec![Some(at_ms)],
        )
        .await
    }

    /// Gives a claimed event back untouched (graceful shutdown).
    pub async fn release(&self, e: &StoredEvent) -> Result<bool> {
        self.update_claimed(e, "status = 'received', lease_until = NULL", vec![], vec![])
            .await
    }

    /// Makes a failed or waiting event due now again (operator's "retry"), keeping its history.
    pub async fn requeue(&self, id: i64) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE events SET status = 'received', next_attempt_at = $2, attempts = 0, throttled = 0, retry_from = $2, updated_at = $2 \
             WHERE id = $1 AND status IN ('failed', 'retry', 'unassociated')",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Makes every failed event due now again (operator's "Retry all failed"); returns how many.
    pub async fn requeue_failed(&self) -> Result<u64> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE events SET status = 'received', next_attempt_at = $1, attempts = 0, throttled = 0, \
             retry_from = $1, updated_at = $1 WHERE status = 'failed'",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn record_attempt(&self, event_id: i64, error: &str) -> Result<()> {
        sqlx::query("INSERT INTO attempts (event_id, at, error) VALUES ($1, $2, $3)")
            .bind(event_id)
            .bind(now_ms())
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn attempts(&self, event_id: i64) -> Result<Vec<Attempt>> {
        let rows = sqlx::query("SELECT at, error FROM attempts WHERE event_id = $1 ORDER BY id")
            .bind(event_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Attempt {
                    at: r.try_get("at")?,
                    error: r.try_get("error")?,
                })
            })
            .collect()
    }

    pub async fn event(&self, id: i64) -> Result<Option<StoredEvent>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM events WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(row_to_event).transpose()
    }

    /// Every stored event, oldest first (tests, admin).
    pub async fn events(&self) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM events ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row_to_event).collect()
    }

    /// Newest first, optionally of one status: `limit` rows after skipping `offset` (admin pages).
    pub async fn recent_events(
        &self,
        status: Option<Status>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<StoredEvent>> {
        let rows = match status {
            Some(s) => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM events WHERE status = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"))
                    .bind(s.as_str())
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM events ORDER BY id DESC LIMIT $1 OFFSET $2"))
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(row_to_event).collect()
    }

    /// Events whose lsid is `q`, or (when `q` is a number) whose ticket is `q` or whose
    /// outbound `external_key` field is `q` (unassociated ones have no ticket yet); newest first.
    pub async fn search_events(&self, q: &str, limit: i64) -> Result<Vec<StoredEvent>> {
        let ticket: Option<i64> = q.trim_start_matches('#').parse().ok();
        let key_pattern = ticket.map(|t| format!("%[\"external_key\",\"{t}\"]%"));
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events WHERE lsid = $1 OR ticket_id = $2 OR fields LIKE $3 ORDER BY id DESC LIMIT $4"
        ))
        .bind(q)
        .bind(ticket)
        .bind(key_pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_event).collect()
    }

    /// Recorded attempts of each of `ids` (events without any are absent).
    pub async fn attempt_counts(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, i64>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT event_id, COUNT(*) AS n FROM attempts WHERE event_id IN ({}) GROUP BY event_id",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("event_id")?, r.try_get("n")?)))
            .collect()
    }

    /// Number of events per status (statuses without events are absent).
    pub async fn status_counts(&self) -> Result<Vec<(Status, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM events GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .filter_map(|r| {
                let status: String = match r.try_get("status") {
                    Ok(s) => s,
                    Err(e) => return Some(Err(e.into())),
                };
                Status::parse(&status)
                    .map(|s| r.try_get::<i64, _>("n").map(|n| (s, n)).map_err(Into::into))
            })
            .collect()
    }

    pub async fn checkpoint(&self, configuration: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT end_time FROM poll_checkpoints WHERE configuration = $1")
            .bind(configuration)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("end_time"))
            .transpose()
            .map_err(Into::into)
    }

    pub async fn set_checkpoint(&self, configuration: &str, end_time: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO poll_checkpoints (configuration, end_time, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (configuration) DO UPDATE SET end_time = $2, updated_at = $3",
        )
        .bind(configuration)
        .bind(end_time)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
