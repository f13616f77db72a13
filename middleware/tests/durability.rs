//! Surviving outages and keeping exactly-once under stress: long Zendesk outages with the
//! default retry settings, leases that would expire during a rate-limit wait, uncertain
//! outcomes, one process per SQLite file, Retry all failed, and the smaller correctness rules
//! (skipped vs polled, "No archives found", ticket URL hosts).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use middleware::store::{now_ms, Status, StoreError};
use middleware::testing::{fast_tuning, temp_database_url};
use middleware::{Server, StartError};
use sandbox::SessionSpec;

fn comments_with(env: &Env, ticket: u64, marker: &str) -> usize {
    env.sb
        .zendesk
        .comments(ticket)
        .iter()
        .filter(|c| c.body.contains(marker))
        .count()
}

/// Two sessions, each with both surveys: six events, all of a type the defaults process.
async fn sessions_with_surveys(env: &Env, n: usize) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for i in 0..n {
        let ticket = env.sb.zendesk.create_ticket(&format!("outage {i}"));
        let lsid = env.sb.appliance.create_session(
            SessionSpec::default()
                .external_key(ticket.to_string())
                .customer_survey([("rating", "4")])
                .rep_survey([("resolved", "Yes")]),
        );
        env.sb.appliance.end_session(&lsid);
        out.push((ticket, lsid));
    }
    env.delivered(3 * n).await;
    out
}

/// The default retry settings, with the backoff scaled down: the 10-minute cap becomes 200 ms
/// (`fast_tuning`), so a 3-second outage stands for two and a half hours of real outage
/// (today's defaults gave up after five attempts, about two and a half minutes, and never
/// retried surveys).
#[tokio::test]
async fn long_zendesk_outage_then_recovery_delivers_every_session_end_and_survey() {
    let env = Env::start(Setup {
        retry_attempt_limit: None,
        ..Setup::default()
    })
    .await;
    let sessions = sessions_with_surveys(&env, 2).await;
    env.sb.zendesk.faults().set_down(true);
    let faults = env.sb.zendesk.faults().clone();
    let recovery = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        faults.set_down(false);
    });
    env.app.drain_for(Duration::from_secs(30)).await;
    recovery.await.unwrap();
    for (ticket, lsid) in &sessions {
        assert_eq!(comments_with(&env, *ticket, &marker(lsid, END)), 1);
        let ours = env
            .sb
            .zendesk
            .comments(*ticket)
            .iter()
            .filter(|c| c.body.contains("rsz/1 "))
            .count();
        assert_eq!(
            ours, 3,
            "session comment and both surveys on ticket {ticket}"
        );
    }
    let events = env.app.events().await;
    assert_eq!(events.len(), 6);
    for e in &events {
        assert_eq!(e.status, Status::Done, "{e:#?}");
    }
    let retried = events.iter().filter(|e| e.attempts > 5).count();
    assert!(
        retried > 0,
        "the outage outlasted the old five-attempt limit: {events:#?}"
    );
}

#[test]
fn default_retry_settings_cover_a_day_for_every_processed_type() {
    let text = "[[configuration]]\nname = \"X\"\nappliance_id = \"a\"\n[configuration.beyondtrust]\n\
        host = \"bt.example.com\"\nclient_id = \"id\"\nclient_secret = \"s\"\n\
        [configuration.zendesk]\nurl = \"https://x.zendesk.com\"\nusername = \"a@b.c\"\ntoken = \"t\"\n";
    let cfg = middleware::config::parse(text, "m.toml", &|_| None).unwrap();
    let bt = &cfg.configurations[0].beyondtrust;
    assert_eq!(bt.retry_for_hours, 24);
    assert_eq!(bt.retry_attempt_limit, None);
    for t in [END, CUST_SURVEY, REP_SURVEY] {
        assert!(bt.retry_outbound_event_types.iter().any(|x| x == t), "{t}");
    }
    assert_eq!(bt.retry_polling_event_types, vec![END.to_string()]);
    // The cap keeps retries coming during the whole window.
    assert_eq!(
        middleware::Tuning::default().retry_max,
        Duration::from_secs(600)
    );
}

/// Worker A has recorded nothing yet and waits for its rate-limit slot longer than its lease;
/// worker B (another process on the same database, its own limiter) looks for due events
/// meanwhile. Before the fix, A recorded the marker and then waited: B took the expired claim,
/// found no comment, posted, and A posted the same comment again when its slot came.
#[tokio::test]
async fn lease_cannot_expire_while_waiting_for_the_rate_limit() {
    let mut tuning = fast_tuning();
    tuning.lease = Duration::from_millis(900);
    let env = Env::start(Setup {
        tuning: tuning.clone(),
        ..Setup::default()
    })
    .await;
    let (ticket, lsid) = env.ticket_session("limiter");
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;

    let a = env.app.shared.clone();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let b = middleware::app::Shared::build_with_store(
        a.config.clone(),
        tuning.clone(),
        a.store.clone(),
        middleware::render::Renderer::new(None).unwrap(),
        rx,
    )
    .await
    .unwrap();
    a.runtime("Sandbox")
        .unwrap()
        .zendesk
        .limiter()
        .pause(Duration::from_secs(3));
    let worker_a = tokio::spawn({
        let a = a.clone();
        async move { middleware::worker::process_next(&a).await }
    });
    wait_until("A to claim the event", Duration::from_secs(10), || async {
        env.app.events().await[0].status == Status::Processing
    })
    .await;
    // Well past A's original lease.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let b_worked = middleware::worker::process_next(&b).await.unwrap();
    assert!(worker_a.await.unwrap().unwrap());
    assert_eq!(
        comments_with(&env, ticket, &marker(&lsid, END)),
        1,
        "one comment, whoever posted it"
    );
    assert!(!b_worked, "A kept its claim by renewing the lease");
    assert_eq!(env.app.events().await[0].status, Status::Done);
}

/// A PUT that times out may still be applied: the next attempt (which looks for the comment
/// first) waits at least one HTTP timeout.
#[tokio::test]
async fn after_a_timeout_the_lookup_waits_one_http_timeout() {
    let mut tuning = fast_tuning();
    tuning.http_timeout = Duration::from_secs(1);
    let env = Env::start(Setup {
        tuning,
        ..Setup::default()
    })
    .await;
    let (ticket, lsid) = env.ticket_session("timeout");
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.sb.zendesk.faults().timeout_next(1);
    assert_eq!(env.app.process_due().await, 1);
    let after = now_ms();
    let e = &env.app.events().await[0];
    assert_eq!(e.status, Status::Retry);
    assert!(e.comment_marker.is_some(), "outcome unknown: marker kept");
    assert!(
        e.next_attempt_at - after >= 900,
        "retry backoff is 20 ms here, but the look waits for the HTTP timeout: {} ms",
        e.next_attempt_at - after
    );
    env.app.drain().await;
    assert_eq!(comments_with(&env, ticket, &marker(&lsid, END)), 1);
}

fn server_config(db: &str) -> middleware::Config {
    let text = format!(
        "[server]\ndatabase_url = \"{db}\"\nevents_listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n"
    );
    middleware::config::parse(&text, "t.toml", &|_| None).unwrap()
}

#[tokio::test]
async fn second_server_on_the_same_sqlite_file_refuses_and_touches_nothing() {
    let sb = sandbox::Sandbox::start(sandbox::SandboxOptions::default())
        .await
        .unwrap();
    let setup = Setup::default();
    let mut cfg = config(&sb, &setup);
    cfg.server.events_listen = "127.0.0.1:0".into();
    cfg.server.admin_listen = "127.0.0.1:0".into();
    cfg.server.workers = 0;
    std::env::set_var("MIDDLEWARE_ADMIN_PASSWORD", "durability-test");
    let first = Server::bind(cfg.clone(), fast_tuning()).await.unwrap();
    let store = first.shared().store.clone();
    // An event the first process is working on.
    sb.appliance.set_events_url(Some(format!(
        "http://{}/ERSPost?appliance={APPLIANCE_ID}",
        first.local_addr().unwrap()
    )));
    let ticket = sb.zendesk.create_ticket("owner");
    let lsid = sb
        .appliance
        .create_session(SessionSpec::default().external_key(ticket.to_string()));
    sb.appliance.end_session(&lsid);
    let first_shared = first.shared().clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(first.run(async move {
        let _ = stop_rx.await;
    }));
    sb.appliance
        .wait_events_delivered(1, Duration::from_secs(20))
        .await
        .unwrap();
    let claimed = store
        .claim_due(Duration::from_secs(600))
        .await
        .unwrap()
        .unwrap();

    match Server::bind(cfg.clone(), fast_tuning()).await {
        Err(StartError::Store(e @ StoreError::InUse { .. })) => {
            let msg = e.to_string();
            assert!(
                msg.contains("in use by another middleware process") && msg.contains(".lock"),
                "{msg}"
            );
        }
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a second server started on the same SQLite file"),
    }
    let after = store.event(claimed.id).await.unwrap().unwrap();
    assert_eq!(after.status, Status::Processing, "the live claim was kept");
    assert_eq!(after.claim_token, claimed.claim_token);

    // The first keeps working: the claim it holds finishes normally.
    assert!(store.release(&claimed).await.unwrap());
    first_shared.wake.notify_waiters();
    middleware::worker::process_next(&first_shared)
        .await
        .unwrap();
    assert_eq!(
        sb.zendesk
            .comments(ticket)
            .iter()
            .filter(|c| c.body.contains(&marker(&lsid, END)))
            .count(),
        1
    );
    let _ = stop_tx.send(());
    running.await.unwrap().unwrap();

    // Stopped: the file is free again.
    let again = Server::bind(cfg.clone(), fast_tuning()).await.unwrap();
    again.shared().store.close().await;
    middleware::testing::remove_sqlite_files(&setup.database_url);
}

/// The real binary twice on one file: the second exits at once, naming the problem, and the
/// first keeps running.
#[test]
fn second_serve_process_exits_with_a_clear_message() {
    let db = temp_database_url("owner");
    let text = format!(
        "[server]\ndatabase_url = \"{db}\"\nevents_listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n"
    );
    let path = std::env::temp_dir().join(format!(
        "middleware-owner-{}-{}.toml",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::write(&path, text).unwrap();
    let bin = env!("CARGO_BIN_EXE_middleware");
    let mut first = Command::new(bin)
        .args(["serve", "--config"])
        .arg(&path)
        .env("MIDDLEWARE_ADMIN_PASSWORD", "owner-test")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let mut up = false;
    for line in lines.by_ref() {
        if line.unwrap().contains("admin UI and API") {
            up = true;
            break;
        }
    }
    assert!(up, "first serve did not start");
    let mut second = Command::new(bin)
        .args(["serve", "--config"])
        .arg(&path)
        .env("MIDDLEWARE_ADMIN_PASSWORD", "owner-test")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            let _ = first.kill();
            panic!("the second serve kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut stderr).unwrap();
    let first_alive = first.try_wait().unwrap().is_none();
    let _ = first.kill();
    let _ = first.wait();
    let _ = std::fs::remove_file(&path);
    middleware::testing::remove_sqlite_files(&db);
    assert!(!status.success());
    assert!(
        stderr.contains("in use by another middleware process"),
        "{stderr}"
    );
    assert!(first_alive, "the first serve keeps running");
}

/// A worker whose database is gone backs off (doubling, capped) instead of spinning.
#[tokio::test]
async fn worker_backs_off_while_the_database_is_unreachable() {
    let db = temp_database_url("backoff");
    let mut tuning = fast_tuning();
    tuning.store_backoff_base = Duration::from_secs(1);
    tuning.store_backoff_max = Duration::from_secs(60);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let shared = middleware::app::Shared::build(server_config(&db), tuning, rx)
        .await
        .unwrap();
    shared.store.close().await;
    tokio::time::pause();
    let worker = tokio::spawn(middleware::worker::run_worker(shared.clone(), 0));
    // 1 + 2 + 4 + 8 + 16 + 32 = 63 s, then every 60 s: 15 tries in 10 minutes.
    tokio::time::sleep(Duration::from_secs(600)).await;
    let tries = shared.store_failures.load(Ordering::Relaxed);
    assert!((12..=16).contains(&tries), "{tries} database attempts");
    // Wake-ups (new events) do not cut the backoff short.
    for _ in 0..100 {
        shared.wake.notify_waiters();
        tokio::task::yield_now().await;
    }
    assert!(shared.store_failures.load(Ordering::Relaxed) <= tries + 1);
    tx.send(true).unwrap();
    worker.await.unwrap();
    middleware::testing::remove_sqlite_files(&db);
}

#[tokio::test]
async fn retry_all_failed_requeues_every_failed_event_through_the_api() {
    let env = Env::start(Setup {
        retry_attempt_limit: Some(0),
        ..Setup::default()
    })
    .await;
    let sessions = sessions_with_surveys(&env, 2).await;
    env.sb.zendesk.faults().fail_next(100, 500);
    env.app.drain().await;
    let events = env.app.events().await;
    assert!(
        events.iter().all(|e| e.status == Status::Failed),
        "{events:#?}"
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let admin = middleware::admin::router(middleware::admin::AdminState::new(
        env.app.shared.clone(),
        middleware::secret::Secret::new("retry-all-pw"),
    ));
    tokio::spawn(async move { axum::serve(listener, admin).await });
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/api/events/retry-failed");
    let anonymous = http.post(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = http
        .post(&url)
        .basic_auth("admin", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(env
        .app
        .events()
        .await
        .iter()
        .all(|e| e.status == Status::Failed));

    env.sb.zendesk.faults().clear();
    let r = http
        .post(&url)
        .basic_auth("admin", Some("retry-all-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["requeued"], 6);
    env.app.drain().await;
    for (ticket, lsid) in &sessions {
        assert_eq!(comments_with(&env, *ticket, &marker(lsid, END)), 1);
    }
    assert!(env
        .app
        .events()
        .await
        .iter()
        .all(|e| e.status == Status::Done));
}

#[tokio::test]
async fn skipped_outbound_session_end_does_not_hide_the_polled_one() {
    let env = Env::start(Setup {
        beyondtrust: format!(
            "outbound_event_types = [\"{CUST_SURVEY}\"]\npolling_event_types = [\"{END}\"]"
        ),
        ..Setup::default()
    })
    .await;
    let (ticket, lsid) = env.ticket_session("skipped then polled");
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    let events = env.app.events().await;
    assert_eq!(
        (events.len(), events[0].status),
        (1, Status::Skipped),
        "the outbound end is recorded, not processed"
    );
    assert_eq!(env.app.poll_once().await, 1, "the polled end is stored");
    env.app.drain().await;
    assert_eq!(comments_with(&env, ticket, &marker(&lsid, END)), 1);
    let events = env.app.events().await;
    assert_eq!(events[0].status, Status::Skipped);
    assert_eq!(events[1].status, Status::Done);
}

#[tokio::test]
async fn no_archives_for_a_session_that_just_ended_is_waited_for() {
    let env = Env::start(Setup::default()).await;
    let (ticket, lsid) = env.ticket_session("not archived yet");
    // More fetches than one attempt's bounded wait makes: a retry, then success.
    let fetches = env.setup.tuning.report_wait_tries + 2;
    env.sb.appliance.archive_lag(&lsid, fetches);
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    assert!(middleware::worker::process_next(&env.app.shared)
        .await
        .unwrap());
    let e = &env.app.events().await[0];
    assert_eq!(e.status, Status::Retry, "{e:#?}");
    assert!(
        e.last_error
            .as_deref()
            .unwrap()
            .contains("not complete yet"),
        "{e:#?}"
    );
    env.app.drain().await;
    assert_eq!(comments_with(&env, ticket, &marker(&lsid, END)), 1);
    assert_eq!(env.app.events().await[0].status, Status::Done);
}

#[tokio::test]
async fn retry_all_failed_button_in_the_admin_ui() {
    let env = Env::start(Setup {
        retry_attempt_limit: Some(0),
        ..Setup::default()
    })
    .await;
    sessions_with_surveys(&env, 1).await;
    env.sb.zendesk.faults().fail_next(100, 500);
    env.app.drain().await;
    env.sb.zendesk.faults().clear();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let admin = middleware::admin::router(middleware::admin::AdminState::new(
        env.app.shared.clone(),
        middleware::secret::Secret::new("ui-pw"),
    ));
    tokio::spawn(async move { axum::serve(listener, admin).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let origin = format!("http://{addr}");
    let login = http
        .post(format!("{origin}/login"))
        .header("origin", &origin)
        .form(&[("password", "ui-pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let dashboard = http
        .get(format!("{origin}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dashboard.contains("action=\"/events/retry-failed\"")
            && dashboard.contains("Retry all failed (3)"),
        "{dashboard}"
    );
    // Cross-site posts are refused like every other admin form.
    let forged = http
        .post(format!("{origin}/events/retry-failed"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(forged.status().is_client_error(), "{}", forged.status());
    assert!(env
        .app
        .events()
        .await
        .iter()
        .all(|e| e.status == Status::Failed));
    let clicked = http
        .post(format!("{origin}/events/retry-failed"))
        .header("cookie", &cookie)
        .header("origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), 303);
    assert_eq!(clicked.headers()["location"], "/events?status=failed");
    env.app.drain().await;
    assert!(env
        .app
        .events()
        .await
        .iter()
        .all(|e| e.status == Status::Done));
    let after = http
        .get(format!("{origin}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !after.contains("Retry all failed"),
        "no failed events, no button"
    );
}

/// An appliance under maintenance answering 503 with `Retry-After`: the next attempt comes when
/// it said, and a wait is not a failed attempt.
#[tokio::test]
async fn appliance_retry_after_is_honoured() {
    let env = Env::start(Setup::default()).await;
    let (ticket, lsid) = env.ticket_session("appliance busy");
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.sb.appliance.faults().fail_next_retry_after(1, 503, 2);
    let before = now_ms();
    assert!(middleware::worker::process_next(&env.app.shared)
        .await
        .unwrap());
    let e = &env.app.events().await[0];
    assert_eq!(e.status, Status::Retry);
    assert_eq!((e.attempts, e.throttled), (0, 1));
    assert!(
        e.next_attempt_at - before >= 1900,
        "backoff is 20 ms here; Retry-After said 2 s: {} ms",
        e.next_attempt_at - before
    );
    assert!(e.last_error.as_deref().unwrap().contains("503"));
    env.app.drain().await;
    assert_eq!(comments_with(&env, ticket, &marker(&lsid, END)), 1);
}
