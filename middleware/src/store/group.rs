//! Group commit for ingest: concurrent `insert_event` calls are written in shared transactions.
//!
//! Every stored event must be durable before the appliance gets its 200, and a durable commit
//! costs one fsync (SQLite WAL) or one WAL flush (Postgres). Paying it once per request caps
//! ingest at the disk's fsync rate whatever the number of senders. Here one committer task takes
//! whatever requests are waiting, writes them with one multi-row `INSERT` in one transaction,
//! commits, and only then answers each caller: one sender pays one commit per event (as before),
//! many senders share one commit per batch. If a batch fails as a whole, its events are retried
//! one by one, so one bad event never costs the others their answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::{now_ms, Inserted, NewEvent, Result, StoreError};

/// Most events written by one statement (13 parameters each: well under SQLite's 32,766 and
/// Postgres' 65,535 bind limits).
pub const MAX_BATCH: usize = 512;

type Request = (NewEvent, oneshot::Sender<Result<Inserted>>);

/// Handle to the committer task; cloning shares the task.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::UnboundedSender<Request>,
    /// Transactions committed so far (each holding one or more events).
    commits: Arc<AtomicU64>,
}

impl Committer {
    /// Starts the committer on the current tokio runtime. It stops when every handle is gone.
    pub fn spawn(pool: AnyPool) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Request>();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(r) => batch.push(r),
                        Err(_) => break,
                    }
                }
                let events: Vec<NewEvent> = batch.iter().map(|(e, _)| e.clone()).collect();
                let outcome = insert_batch(&pool, &events).await;
                if outcome.is_ok() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                match outcome {
                    Ok(results) => {
                        for ((_, reply), r) in batch.drain(..).zip(results) {
                            let _ = reply.send(Ok(r));
                        }
                    }
                    Err(_) if batch.len() > 1 => {
                        for (event, reply) in batch.drain(..) {
                            let r = insert_batch(&pool, std::slice::from_ref(&event))
                                .await
                                .map(|mut v| v.remove(0));
                            let _ = reply.send(r);
                        }
                    }
                    Err(e) => {
                        for (_, reply) in batch.drain(..) {
                            let _ = reply.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        Self { tx, commits }
    }

    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Queues `event` for the next shared commit; answers after that commit (never before).
    /// `None` when the committer is gone (its runtime ended): the caller writes directly.
    pub async fn insert(&self, event: &NewEvent) -> Option<Result<Inserted>> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((event.clone(), reply)).ok()?;
        answer.await.ok()
    }
}

/// Statement sizes (rows per `INSERT`): a batch is written as a few statements of these sizes,
/// so the database's prepared statements are reused instead of one new statement per batch size.
const CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

/// Writes `events` in one transaction; one answer per event, in order. Rows that conflict with
/// a stored event (or with an earlier event of the same batch) are `Duplicate`.
pub async fn insert_batch(pool: &AnyPool, events: &[NewEvent]) -> Result<Vec<Inserted>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await?;
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(events.len());
    let mut rest = events;
    while !rest.is_empty() {
        let size = CHUNKS
            .iter()
            .copied()
            .find(|c| *c <= rest.len())
            .unwrap_or(1);
        let (chunk, tail) = rest.split_at(size);
        insert_chunk(&mut tx, chunk, &mut ids).await?;
        rest = tail;
    }
    tx.commit().await?;
    // The first event of a key gets the new row; any later one in the batch is its duplicate.
    Ok(events
        .iter()
        .map(|e| match ids.remove(&e.dedup_key()) {
            Some(id) => Inserted::New(id),
            None => Inserted::Duplicate,
        })
        .collect())
}

/// One multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING`; records the new ids by key.
async fn insert_chunk(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    events: &[NewEvent],
    ids: &mut HashMap<String, i64>,
) -> Result<()> {
    let now = now_ms();
    let mut sql = String::from(
        "INSERT INTO events (configuration, appliance_id, event_type, lsid, event_timestamp, source, dedup_key, fields, \
         status, attempts, throttled, next_attempt_at, last_error, created_at, updated_at) VALUES ",
    );
    for i in 0..events.len() {
        let b = i * 11;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 0, 0, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7,
            b + 8,
            b + 9,
            b + 10,
            b + 11,
            b + 10,
            b + 10
        ));
    }
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING id, dedup_key");
    let mut q = sqlx::query(&sql);
    for e in events {
        let fields =
            serde_json::to_string(&e.fields).map_err(|err| StoreError::Db(err.to_string()))?;
        let key = e.dedup_key();
        q = q
            .bind(e.configuration.clone())
            .bind(e.appliance_id.clone())
            .bind(e.event_type.clone())
            .bind(e.lsid.clone())
            .bind(e.event_timestamp.clone())
            .bind(e.source.as_str())
            .bind(key)
            .bind(fields)
            .bind(e.status.as_str())
            .bind(now)
            .bind(e.note.clone());
    }
    let rows = q.fetch_all(&mut **tx).await?;
    for r in &rows {
        ids.insert(r.try_get("dedup_key")?, r.try_get("id")?);
    }
    Ok(())
}
