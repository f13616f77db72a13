use super::*;

pub(crate) fn temp_db_url(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path =
        std::env::temp_dir().join(format!("mw-store-{tag}-{}-{nanos}.db", std::process::id()));
    format!("sqlite://{}?mode=rwc", path.display())
}

fn event(lsid: &str, ts: &str, event_type: &str) -> NewEvent {
    NewEvent {
        configuration: "Production".into(),
        appliance_id: "default".into(),
        event_type: event_type.into(),
        lsid: lsid.into(),
        event_timestamp: ts.into(),
        source: Source::Outbound,
        fields: vec![
            ("event".into(), event_type.into()),
            ("lsid".into(), lsid.into()),
        ],
        status: Status::Received,
        note: None,
    }
}

const END: &str = crate::config::SESSION_END;
const SURVEY: &str = crate::config::CUSTOMER_SURVEY;

async fn redelivery_and_polled_duplicates_are_rejected(url: String) {
    let store = Store::connect(&url).await.unwrap();
    assert!(matches!(
        store.insert_event(&event("a", "100", END)).await.unwrap(),
        Inserted::New(_)
    ));
    assert_eq!(
        store.insert_event(&event("a", "100", END)).await.unwrap(),
        Inserted::Duplicate
    );
    // A polled end for the same session (no outbound timestamp) is the same event.
    let mut polled = event("a", "", END);
    polled.source = Source::Polling;
    assert_eq!(
        store.insert_event(&polled).await.unwrap(),
        Inserted::Duplicate
    );
    // Surveys are keyed by timestamp too; the same survey redelivered is a duplicate.
    assert!(matches!(
        store
            .insert_event(&event("a", "101", SURVEY))
            .await
            .unwrap(),
        Inserted::New(_)
    ));
    assert_eq!(
        store
            .insert_event(&event("a", "101", SURVEY))
            .await
            .unwrap(),
        Inserted::Duplicate
    );
    assert!(matches!(
        store.insert_event(&event("b", "100", END)).await.unwrap(),
        Inserted::New(_)
    ));
    let all = store.events().await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].fields[1], ("lsid".to_string(), "a".to_string()));
}

async fn claims_are_exclusive_and_outcomes_stick(url: String) {
    let store = Store::connect(&url).await.unwrap();
    store.insert_event(&event("a", "1", END)).await.unwrap();
    let mut skipped = event("s", "1", "support_conference_begin");
    skipped.status = Status::Skipped;
    store.insert_event(&skipped).await.unwrap();
    let lease = Duration::from_secs(60);
    let claimed = store.claim_due(lease).await.unwrap().expect("due event");
    assert_eq!(claimed.status, Status::Processing);
    assert!(
        store.claim_due(lease).await.unwrap().is_none(),
        "claimed and skipped events are not due"
    );
    assert!(store.set_marker(&claimed, "rsz:x", 42).await.unwrap());
    assert!(store.mark_done(&claimed, Some(42)).await.unwrap());
    let done = store.event(claimed.id).await.unwrap().unwrap();
    assert_eq!(done.status, Status::Done);
    assert_eq!(done.ticket_id, Some(42));
    assert_eq!(done.comment_marker.as_deref(), Some("rsz:x"));
    assert_eq!(store.next_due_at().await.unwrap(), None);
}

async fn concurrent_claims_never_share_an_event(url: String) {
    let store = Store::connect(&url).await.unwrap();
    for i in 0..20 {
        store
            .insert_event(&event(&format!("l{i}"), "1", END))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            while let Some(e) = s.claim_due(Duration::from_secs(60)).await.unwrap() {
                ids.push(e.id);
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, 20);
    assert_eq!(all.len(), 20);
}

async fn expired_lease_is_reclaimed_and_stale_worker_cannot_overwrite(url: String) {
    let store = Store::connect(&url).await.unwrap();
    store.insert_event(&event("a", "1", END)).await.unwrap();
    let first = store
        .claim_due(Duration::from_millis(0))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await; // wall-clock lease expiry
    let second = store
        .claim_due(Duration::from_secs(60))
        .await
        .unwrap()
        .expect("lease expired");
    assert_eq!(first.id, second.id);
    assert!(
        !store.mark_done(&first, None).await.unwrap(),
        "stale claim loses"
    );
    assert!(store.mark_failed(&second, "boom").await.unwrap());
    let e = store.event(first.id).await.unwrap().unwrap();
    assert_eq!(e.status, Status::Failed);
    assert_eq!(e.last_error.as_deref(), Some("boom"));
    assert_eq!(store.attempts(e.id).await.unwrap().len(), 1);
}

async fn retries_wait_until_due_and_keep_every_error(url: String) {
    let store = Store::connect(&url).await.unwrap();
    store.insert_event(&event("a", "1", END)).await.unwrap();
    let e = store
        .claim_due(Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let at = now_ms() + 60_000;
    assert!(store
        .schedule_retry(&e, at, "HTTP 503", false)
        .await
        .unwrap());
    assert!(store
        .claim_due(Duration::from_secs(60))
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.next_due_at().await.unwrap(), Some(at));
    let stored = store.event(e.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.attempts, stored.throttled),
        (Status::Retry, 1, 0)
    );
    assert_eq!(store.attempts(e.id).await.unwrap()[0].error, "HTTP 503");
}

async fn checkpoints_persist_across_connections(url: String) {
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.checkpoint("P").await.unwrap(), None);
    store.set_checkpoint("P", 10).await.unwrap();
    store.set_checkpoint("P", 20).await.unwrap();
    store.close().await;
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.checkpoint("P").await.unwrap(), Some(20));
}

async fn surveys_wait_for_their_session_end(url: String) {
    let store = Store::connect(&url).await.unwrap();
    store.insert_event(&event("a", "1", END)).await.unwrap();
    store.insert_event(&event("a", "2", SURVEY)).await.unwrap();
    store.insert_event(&event("b", "3", SURVEY)).await.unwrap();
    let lease = Duration::from_secs(60);
    let first = store.claim_due(lease).await.unwrap().unwrap();
    assert_eq!((first.lsid.as_str(), first.event_type.as_str()), ("a", END));
    let second = store.claim_due(lease).await.unwrap().unwrap();
    assert_eq!(
        second.lsid, "b",
        "a's survey waits while a's end is processing"
    );
    assert!(store.claim_due(lease).await.unwrap().is_none());
    // Only the end event's lease is pending: no busy wake-up for the blocked survey.
    let due = store.next_due_at().await.unwrap().unwrap();
    assert!(due > now_ms() + 50_000);
    store.mark_done(&first, Some(1)).await.unwrap();
    let third = store.claim_due(lease).await.unwrap().unwrap();
    assert_eq!(
        (third.lsid.as_str(), third.event_type.as_str()),
        ("a", SURVEY)
    );
}

async fn leases_renew_only_for_their_holder(url: String) {
    let store = Store::connect(&url).await.unwrap();
    store.insert_event(&event("a", "1", END)).await.unwrap();
    let short = Duration::from_millis(200);
    let mine = store.claim_due(short).await.unwrap().unwrap();
    assert!(store
        .renew_lease(&mine, Duration::from_secs(60))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        store.claim_due(short).await.unwrap().is_none(),
        "a renewed lease is not taken over"
    );
    // Expire it for real: another worker takes the event, and the first can no longer renew.
    sqlx::query("UPDATE events SET lease_until = 0")
        .execute(&store.pool)
        .await
        .unwrap();
    let theirs = store.claim_due(short).await.unwrap().unwrap();
    assert_eq!(theirs.id, mine.id);
    assert!(!store
        .renew_lease(&mine, Duration::from_secs(60))
        .await
        .unwrap());
    assert!(store
        .renew_lease(&theirs, Duration::from_secs(60))
        .await
        .unwrap());
}

async fn retry_all_failed_restarts_the_retry_window(url: String) {
    let store = Store::connect(&url).await.unwrap();
    for lsid in ["a", "b", "c"] {
        store.insert_event(&event(lsid, "1", END)).await.unwrap();
    }
    let lease = Duration::from_secs(60);
    let a = store.claim_due(lease).await.unwrap().unwrap();
    store.mark_failed(&a, "boom").await.unwrap();
    let b = store.claim_due(lease).await.unwrap().unwrap();
    store.mark_failed(&b, "boom").await.unwrap();
    let c = store.claim_due(lease).await.unwrap().unwrap();
    store.mark_done(&c, Some(1)).await.unwrap();
    let before = store.event(a.id).await.unwrap().unwrap();
    assert_eq!(before.retry_from, before.created_at);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(store.requeue_failed().await.unwrap(), 2);
    for id in [a.id, b.id] {
        let e = store.event(id).await.unwrap().unwrap();
        assert_eq!((e.status, e.attempts), (Status::Received, 0));
        assert!(e.retry_from > e.created_at, "a fresh retry window");
        assert_eq!(
            store.attempts(id).await.unwrap().len(),
            1,
            "history is kept"
        );
    }
    assert_eq!(
        store.event(c.id).await.unwrap().unwrap().status,
        Status::Done
    );
    assert_eq!(store.requeue_failed().await.unwrap(), 0);
}

async fn skipped_event_does_not_hide_the_processed_one(url: String) {
    let store = Store::connect(&url).await.unwrap();
    let mut skipped = event("a", "100", END);
    skipped.status = Status::Skipped;
    assert!(matches!(
        store.insert_event(&skipped).await.unwrap(),
        Inserted::New(_)
    ));
    assert_eq!(
        store.insert_event(&skipped).await.unwrap(),
        Inserted::Duplicate,
        "a redelivered skipped event is still one row"
    );
    let mut polled = event("a", "", END);
    polled.source = Source::Polling;
    assert!(matches!(
        store.insert_event(&polled).await.unwrap(),
        Inserted::New(_)
    ));
    let due = store
        .claim_due(Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(due.source, Source::Polling);
}

/// A fresh Postgres database under `MIDDLEWARE_TEST_POSTGRES_URL` (e.g.
/// `postgres://mw@127.0.0.1:55432/postgres`), for the ignored Postgres variants:
/// `MIDDLEWARE_TEST_POSTGRES_URL=... cargo test -p middleware store -- --ignored`.
pub(crate) async fn postgres_url() -> String {
    let admin =
        std::env::var("MIDDLEWARE_TEST_POSTGRES_URL").expect("MIDDLEWARE_TEST_POSTGRES_URL");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
    let name = format!("mw_test_{}", rand::random::<u32>());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// Concurrent ingest shares transactions, and every answer comes after its commit: a second
/// connection (another process) already sees each event the moment its caller got the answer.
async fn concurrent_inserts_share_commits_and_answer_after_them(url: String) {
    let store = Store::connect(&url).await.unwrap();
    // Another process's connection (it reads only: a SQLite file has one owning process).
    let reader = Store::open_unowned(&url).await.unwrap();
    let before = store.group_commits();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..300 {
        let store = store.clone();
        let reader = reader.clone();
        tasks.spawn(async move {
            // Every third event is sent twice at once: one of the pair is the duplicate.
            let e = event(&format!("s{}", i / 3 * 3), "100", END);
            let inserted = store.insert_event(&e).await.unwrap();
            if let Inserted::New(id) = inserted {
                let seen = reader.event(id).await.unwrap();
                assert!(seen.is_some(), "answered before the commit: {id}");
            }
            inserted
        });
    }
    let mut new = 0;
    let mut dup = 0;
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Inserted::New(_) => new += 1,
            Inserted::Duplicate => dup += 1,
        }
    }
    assert_eq!((new, dup), (100, 200));
    assert_eq!(reader.events().await.unwrap().len(), 100);
    let commits = store.group_commits() - before;
    assert!(
        commits < 150,
        "300 concurrent requests took {commits} commits: not grouped"
    );
    // A batch with the same event twice stores it once.
    let out = store
        .insert_events(&[
            event("z", "1", SURVEY),
            event("z", "1", SURVEY),
            event("y", "1", SURVEY),
        ])
        .await
        .unwrap();
    assert!(matches!(out[0], Inserted::New(_)));
    assert_eq!(out[1], Inserted::Duplicate);
    assert!(matches!(out[2], Inserted::New(_)));
    store.close().await;
    reader.close().await;
}

/// Several workers (of several instances) claiming at once each get a due event: none queues
/// behind another's row lock only to come back empty-handed while events are due.
async fn simultaneous_claimers_each_get_an_event(url: String) {
    let store = Store::connect(&url).await.unwrap();
    for i in 0..8 {
        store
            .insert_event(&event(&format!("c{i}"), "1", END))
            .await
            .unwrap();
    }
    for _round in 0..3 {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let s = store.clone();
            tasks.spawn(async move { s.claim_due(Duration::from_secs(60)).await.unwrap() });
        }
        let mut got = Vec::new();
        while let Some(r) = tasks.join_next().await {
            got.push(r.unwrap());
        }
        let ids: std::collections::BTreeSet<i64> = got.iter().flatten().map(|e| e.id).collect();
        assert_eq!(ids.len(), 8, "every claimer gets its own event: {got:?}");
        for e in got.iter().flatten() {
            store.release(e).await.unwrap();
        }
    }
    store.close().await;
}

/// Instances starting together on an empty database all come up: migrations run once, in a
/// transaction, under a lock.
async fn instances_starting_together_migrate_once(url: String) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let url = url.clone();
        tasks.spawn(async move {
            let store = Store::connect(&url).await?;
            store.close().await;
            Ok::<_, StoreError>(())
        });
    }
    let mut started = 0;
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(()) => started += 1,
            // A SQLite file has one owning process: the others are told so, having touched nothing.
            Err(StoreError::InUse { .. }) if url.starts_with("sqlite:") => {}
            Err(e) => panic!("every instance starts: {e:?}"),
        }
    }
    assert!(started >= 1);
    let store = Store::connect(&url).await.unwrap();
    let rows = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&store.pool)
        .await
        .unwrap();
    let versions: Vec<i64> = rows.iter().map(|r| r.try_get("version").unwrap()).collect();
    let expected: Vec<i64> = schema::migrations().iter().map(|m| m.version).collect();
    assert_eq!(versions, expected);
    store.close().await;
}

/// Retention purges finished events (done, skipped, unassociated) and their attempts once
/// they are old enough; failed and pending events stay whatever their age.
async fn retention_purges_finished_events_and_keeps_failed_ones(url: String) {
    let store = Store::connect(&url).await.unwrap();
    let lease = Duration::from_secs(60);
    let mut skipped = event("s", "1", "support_conference_begin");
    skipped.status = Status::Skipped;
    store.insert_event(&skipped).await.unwrap();
    for lsid in ["done", "failed", "unassoc"] {
        store.insert_event(&event(lsid, "1", END)).await.unwrap();
    }
    store
        .insert_event(&event("pending", "1", END))
        .await
        .unwrap();
    for _ in 0..3 {
        let e = store.claim_due(lease).await.unwrap().unwrap();
        store
            .record_attempt(e.id, "an earlier error")
            .await
            .unwrap();
        match e.lsid.as_str() {
            "done" => assert!(store.mark_done(&e, Some(1)).await.unwrap()),
            "failed" => assert!(store.mark_failed(&e, "gave up").await.unwrap()),
            _ => assert!(store.mark_unassociated(&e, "no ticket").await.unwrap()),
        }
    }
    // Nothing is older than a day yet.
    assert_eq!(
        store.purge_finished(now_ms() - 86_400_000).await.unwrap(),
        0
    );
    let purged = store.purge_finished(now_ms() + 1).await.unwrap();
    assert_eq!(purged, 3);
    let mut left: Vec<(String, Status)> = store
        .events()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.lsid, e.status))
        .collect();
    left.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        left,
        [
            ("failed".to_string(), Status::Failed),
            ("pending".to_string(), Status::Received)
        ]
    );
    let failed = store
        .events()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.lsid == "failed")
        .unwrap();
    assert_eq!(
        store.attempts(failed.id).await.unwrap().len(),
        2,
        "failed events keep their history"
    );
    let orphans = sqlx::query(
        "SELECT COUNT(*) AS n FROM attempts WHERE event_id NOT IN (SELECT id FROM events)",
    )
    .fetch_one(&store.pool)
    .await
    .unwrap()
    .try_get::<i64, _>("n")
    .unwrap();
    assert_eq!(orphans, 0, "attempts of purged events are purged too");
    store.close().await;
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                let url = super::temp_db_url(stringify!($name));
                super::$name(url.clone()).await;
                crate::testing::remove_sqlite_files(&url);
            })*
        }
        mod postgres {
            $(#[tokio::test]
            #[ignore = "needs a Postgres server in MIDDLEWARE_TEST_POSTGRES_URL"]
            async fn $name() {
                super::$name(super::postgres_url().await).await
            })*
        }
    };
}

on_both_backends!(
    redelivery_and_polled_duplicates_are_rejected,
    claims_are_exclusive_and_outcomes_stick,
    concurrent_claims_never_share_an_event,
    expired_lease_is_reclaimed_and_stale_worker_cannot_overwrite,
    retries_wait_until_due_and_keep_every_error,
    checkpoints_persist_across_connections,
    surveys_wait_for_their_session_end,
    leases_renew_only_for_their_holder,
    retry_all_failed_restarts_the_retry_window,
    skipped_event_does_not_hide_the_processed_one,
    concurrent_inserts_share_commits_and_answer_after_them,
    simultaneous_claimers_each_get_an_event,
    instances_starting_together_migrate_once,
    retention_purges_finished_events_and_keeps_failed_ones,
);

#[tokio::test]
async fn a_sqlite_file_has_one_owner_until_it_closes() {
    let url = temp_db_url("owner");
    let first = Store::connect(&url).await.unwrap();
    first.insert_event(&event("a", "1", END)).await.unwrap();
    let claimed = first
        .claim_due(Duration::from_secs(600))
        .await
        .unwrap()
        .unwrap();
    match Store::connect(&url).await {
        Err(StoreError::InUse { path, lock }) => {
            assert!(url.contains(&path), "{path}");
            assert!(lock.ends_with(".db.lock"), "{lock}");
        }
        other => panic!("second owner: {other:?}"),
    }
    assert_eq!(
        first.event(claimed.id).await.unwrap().unwrap().status,
        Status::Processing,
        "the refused connection reset nothing"
    );
    first.close().await;
    // Closed (or crashed): the next process owns it and takes the orphaned claim back.
    let second = Store::connect(&url).await.unwrap();
    assert_eq!(
        second.event(claimed.id).await.unwrap().unwrap().status,
        Status::Received
    );
    second.close().await;
    crate::testing::remove_sqlite_files(&url);
}
