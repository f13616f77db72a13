//! Failure handling against the sandbox: tokens, Zendesk storms, appliance errors, bad input,
//! duplicates, polling, restarts.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use middleware::store::{now_ms, Status};
use sandbox::SessionSpec;

async fn one_session(env: &Env, subject: &str) -> (u64, String) {
    let ticket = env.sb.zendesk.create_ticket(subject);
    let lsid = env
        .sb
        .appliance
        .create_session(SessionSpec::default().external_key(ticket.to_string()));
    (ticket, lsid)
}

fn our_comments(env: &Env, ticket: u64) -> usize {
    env.sb
        .zendesk
        .comments(ticket)
        .iter()
        .filter(|c| c.body.contains("rsz:"))
        .count()
}

#[tokio::test]
async fn token_is_requested_once_for_concurrent_workers() {
    let env = Env::start(Setup {
        workers: 4,
        ..Setup::default()
    })
    .await;
    let mut tickets = Vec::new();
    for i in 0..6 {
        let (t, lsid) = one_session(&env, &format!("t{i}")).await;
        env.sb.appliance.end_session(&lsid);
        tickets.push(t);
    }
    env.delivered(6).await;
    env.app.drain().await;
    for t in tickets {
        assert_eq!(our_comments(&env, t), 1);
    }
    assert_eq!(
        env.sb.appliance.token_requests(),
        1,
        "one token for all workers of the configuration"
    );
}

#[tokio::test]
async fn expired_token_is_refreshed_before_use() {
    let env = Env::start(Setup::default()).await;
    env.sb
        .appliance
        .set_token_lifetime(Duration::from_millis(800));
    let (t1, a) = one_session(&env, "a").await;
    env.sb.appliance.end_session(&a);
    env.delivered(1).await;
    env.app.drain().await;
    // The appliance clock is wall time: let the token expire for real.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(env.sb.appliance.live_tokens(), 0);
    let (t2, b) = one_session(&env, "b").await;
    env.sb.appliance.end_session(&b);
    env.delivered(2).await;
    env.app.drain().await;
    assert_eq!((our_comments(&env, t1), our_comments(&env, t2)), (1, 1));
    assert_eq!(env.sb.appliance.token_requests(), 2);
    assert!(
        env.sb.appliance.api_calls().iter().all(|c| c.status == 200),
        "refreshed before expiry, never a 401"
    );
}

#[tokio::test]
async fn evicted_token_gets_one_fresh_token_and_a_retry() {
    let env = Env::start(Setup::default()).await;
    let (t1, a) = one_session(&env, "a").await;
    env.sb.appliance.end_session(&a);
    env.delivered(1).await;
    env.app.drain().await;
    // Thirty other clients of the same API account evict our cached token.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    for _ in 0..30 {
        let r = http
            .post(format!("{}/oauth2/token", env.sb.appliance.base_url()))
            .basic_auth(
                env.sb.appliance.client_id(),
                Some(env.sb.appliance.client_secret()),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let (t2, b) = one_session(&env, "b").await;
    env.sb.appliance.end_session(&b);
    env.delivered(2).await;
    env.app.drain().await;
    assert_eq!((our_comments(&env, t1), our_comments(&env, t2)), (1, 1));
    assert_eq!(
        env.sb.appliance.token_requests(),
        32,
        "ours, thirty others, and our one refresh"
    );
    let events = env.app.events().await;
    assert!(
        events
            .iter()
            .all(|e| e.status == Status::Done && e.attempts == 0),
        "the 401 was absorbed: {events:#?}"
    );
    let statuses: Vec<u16> = env
        .sb
        .appliance
        .api_calls()
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        1,
        "one 401, then the retry with a fresh token: {statuses:?}"
    );
}

#[tokio::test]
async fn legacy_credentials_and_bomgar_namespace() {
    let env = Env::start(Setup {
        legacy: true,
        ..Setup::default()
    })
    .await;
    env.sb
        .appliance
        .set_xml_namespace(sandbox::XmlNamespace::Bomgar);
    let (t, lsid) = one_session(&env, "legacy").await;
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    assert_eq!(our_comments(&env, t), 1);
    assert_eq!(env.sb.appliance.token_requests(), 0);
}

#[tokio::test]
async fn certificate_is_verified_unless_allowed() {
    let env = Env::start(Setup {
        allow_invalid_certificates: false,
        retry_attempt_limit: 1,
        ..Setup::default()
    })
    .await;
    let (t, lsid) = one_session(&env, "tls").await;
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.app.drain().await;
    let e = &env.app.events().await[0];
    assert_eq!(e.status, Status::Failed);
    assert!(
        e.last_error
            .as_deref()
            .unwrap()
            .to_ascii_lowercase()
            .contains("certificate"),
        "{:?}",
        e.last_error
    );
    assert_eq!(
        env.app.store().attempts(e.id).await.unwrap().len(),
        2,
        "first try and one retry"
    );
    assert_eq!(our_comments(&env, t), 0);
}

#[tokio::test]
async fn zendesk_429_and_5xx_storms_end_with_exactly_one_comment_each() {
    let env = Env::start(Setup {
        retry_attempt_limit: 10,
        ..Setup::default()
    })
    .await;
    let mut sessions = Vec::new();
    for i in 0..3 {
        let (t, lsid) = one_session(&env, &format!("storm{i}")).await;
        env.sb.appliance.end_session(&lsid);
        sessions.push(t);
    }
    env.delivered(3).await;
    env.sb.zendesk.faults().fail_next(4, 429);
    env.sb.zendesk.faults().fail_next(3, 503);
    env.sb.zendesk.faults().fail_next(2, 500);
    env.app.drain().await;
    for t in &sessions {
        assert_eq!(our_comments(&env, *t), 1, "ticket {t}");
    }
    let mut errors = Vec::new();
    for e in env.app.events().await {
        assert_eq!(e.status, Status::Done);
        errors.extend(
            env.app
                .store()
                .attempts(e.id)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.error),
        );
    }
    assert_eq!(errors.len(), 9, "every failed attempt is kept: {errors:#?}");
    assert_eq!(errors.iter().filter(|e| e.contains("429")).count(), 4);
    assert_eq!(
        errors
            .iter()
            .filter(|e| e.contains("503") || e.contains("500"))
            .count(),
        5
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let env = Env::start(Setup::default()).await;
    env.sb.zendesk.set_rate_limit(1);
    let (t1, a) = one_session(&env, "a").await;
    let (t2, b) = one_session(&env, "b").await;
    env.sb.appliance.end_session(&a);
    env.sb.appliance.end_session(&b);
    env.delivered(2).await;
    let before = now_ms();
    assert_eq!(env.app.process_due().await, 2);
    assert_eq!((our_comments(&env, t1), our_comments(&env, t2)), (1, 0));
    let second = &env.app.events().await[1];
    assert_eq!(second.status, Status::Retry);
    assert!(second.last_error.as_deref().unwrap().contains("429"));
    let wait = second.next_attempt_at - before;
    assert!(
        wait >= 50_000,
        "Retry-After (about a minute) honoured, got {wait} ms"
    );
    assert_eq!(second.attempts, 0, "a 429 is not a failed attempt");
    assert_eq!(second.throttled, 1);
}

#[tokio::test]
async fn transient_errors_stop_after_the_retry_limit() {
    let env = Env::start(Setup {
        retry_attempt_limit: 2,
        ..Setup::default()
    })
    .await;
    let (t, lsid) = one_session(&env, "down").await;
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.sb.zendesk.faults().fail_next(10, 502);
    env.app.drain().await;
    let e = &env.app.events().await[0];
    assert_eq!(e.status, Status::Failed);
    assert!(
        e.last_error.as_deref().unwrap().contains("502"),
        "{:?}",
        e.last_error
    );
    assert_eq!(
        env.app.store().attempts(e.id).await.unwrap().len(),
        3,
        "first try plus two retries"
    );
    assert_eq!(our_comments(&env, t), 0);
    // An operator can retry it once Zendesk is back.
    env.sb.zendesk.faults().clear();
    assert!(env.app.store().requeue(e.id).await.unwrap());
    env.app.drain().await;
    assert_eq!(our_comments(&env, t), 1);
}

#[tokio::test]
async fn appliance_error_answer_fails_with_its_message() {
    let env = Env::start(Setup::default()).await;
    let http = reqwest::Client::new();
    let r = http
        .post(env.app.events_url(Some(APPLIANCE_ID)))
        .form(&[
            ("event", END),
            ("version", "1.0"),
            ("timestamp", "1700000000"),
            ("lsid", "00000000000000000000000000000000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    env.app.drain().await;
    let e = &env.app.events().await[0];
    assert_eq!(e.status, Status::Failed);
    assert!(
        e.last_error
            .as_deref()
            .unwrap()
            .contains("No archives found"),
        "{:?}",
        e.last_error
    );
    assert_eq!(env.comment_puts(), 0);
}

#[tokio::test]
async fn appliance_outage_is_retried() {
    let env = Env::start(Setup::default()).await;
    let (t, lsid) = one_session(&env, "outage").await;
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    env.sb.appliance.faults().fail_next(2, 503);
    env.sb.appliance.faults().drop_next(1);
    env.app.drain().await;
    assert_eq!(our_comments(&env, t), 1);
    let e = &env.app.events().await[0];
    assert_eq!((e.status, e.attempts), (Status::Done, 3));
}

#[tokio::test]
async fn unknown_appliance_id_is_refused_with_404() {
    let env = Env::start(Setup::default()).await;
    let http = reqwest::Client::new();
    let r = http
        .post(env.app.events_url(Some("elsewhere")))
        .form(&[("event", END), ("timestamp", "1"), ("lsid", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("elsewhere") && body.trim().lines().count() == 1,
        "{body}"
    );
    // Without ?appliance= the id is "default", which this middleware does not serve either.
    let r = http
        .post(env.app.events_url(None))
        .form(&[("event", END), ("lsid", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(env.app.events().await.is_empty());
}

#[tokio::test]
async fn duplicate_delivery_is_processed_once() {
    let env = Env::start(Setup::default()).await;
    let (t, lsid) = one_session(&env, "dup").await;
    env.sb.appliance.end_session(&lsid);
    env.delivered(1).await;
    let fields = env.sb.appliance.delivered_events()[0].fields.clone();
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let r = http
            .post(env.app.events_url(Some(APPLIANCE_ID)))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "redelivery is accepted");
    }
    env.app.drain().await;
    // And once more after processing.
    let r = http
        .post(env.app.events_url(Some(APPLIANCE_ID)))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    env.app.drain().await;
    assert_eq!(env.app.events().await.len(), 1);
    assert_eq!(our_comments(&env, t), 1);
    assert_eq!(env.comment_puts(), 1);
}

#[tokio::test]
async fn polling_finds_sessions_without_outbound_events() {
    let setup = Setup {
        beyondtrust: "outbound_event_types = []\npolling_event_types = [\"support_conference_end\"]\npolling_interval_secs = 60"
            .into(),
        ..Setup::default()
    };
    let env = Env::start(setup).await;
    env.sb.appliance.set_events_url(None);
    let (t, lsid) = one_session(&env, "polled").await;
    env.sb.appliance.end_session(&lsid);
    assert_eq!(env.app.poll_once().await, 1);
    env.app.drain().await;
    assert_eq!(our_comments(&env, t), 1);
    assert!(env
        .sb
        .zendesk
        .comments(t)
        .iter()
        .any(|c| c.body.contains(&marker(&lsid, END))));
    // The next poll (overlapping window) and a late outbound event change nothing.
    assert_eq!(env.app.poll_once().await, 0);
    env.sb
        .appliance
        .set_events_url(Some(env.app.events_url(Some(APPLIANCE_ID))));
    env.delivered(1).await;
    env.app.drain().await;
    assert_eq!(env.app.events().await.len(), 1);
    assert_eq!(our_comments(&env, t), 1);
    assert!(env
        .app
        .store()
        .checkpoint("Sandbox")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn restart_with_work_in_flight_loses_and_duplicates_nothing() {
    let mut env = Env::start(Setup::default()).await;
    let mut sessions = Vec::new();
    for i in 0..3 {
        let (t, lsid) = one_session(&env, &format!("restart{i}")).await;
        env.sb.appliance.end_session(&lsid);
        sessions.push((t, lsid));
    }
    env.delivered(3).await;

    // Event 1: a worker posted the comment and was killed before recording success.
    let store = env.app.store().clone();
    let first = store
        .claim_due(Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    let m = marker(&first.lsid, END);
    assert!(store.set_marker(&first, &m, sessions[0].0).await.unwrap());
    let cfg = &env.app.shared.config.configurations[0];
    let zd = middleware::zendesk::ZendeskClient::new(
        &cfg.zendesk,
        Arc::new(middleware::zendesk::RateLimiter::new(100)),
        Duration::from_secs(5),
    )
    .unwrap();
    zd.add_private_comment(
        sessions[0].0,
        &middleware::render::with_marker("<p>posted before the crash</p>", &m),
        &[],
    )
    .await
    .unwrap();

    // Event 2: the process dies while the comment request is in flight.
    env.sb.zendesk.faults().timeout_next(1);
    let shared = env.app.shared.clone();
    let worker = tokio::spawn(async move { middleware::worker::process_next(&shared).await });
    wait_until(
        "the second comment request to be in flight",
        Duration::from_secs(10),
        || {
            let store = store.clone();
            async move {
                store.events().await.unwrap().iter().any(|e| {
                    e.id != first.id && e.status == Status::Processing && e.comment_marker.is_some()
                })
            }
        },
    )
    .await;
    worker.abort();
    let _ = worker.await;
    // Event 3 was never touched. Kill the process and start again on the same database.
    env.restart().await;
    env.app.drain().await;

    for (t, lsid) in &sessions {
        let matching = env
            .sb
            .zendesk
            .comments(*t)
            .iter()
            .filter(|c| c.body.contains(&marker(lsid, END)))
            .count();
        assert_eq!(matching, 1, "ticket {t}: exactly one comment");
    }
    let events = env.app.events().await;
    assert_eq!(events.len(), 3);
    assert!(
        events.iter().all(|e| e.status == Status::Done),
        "{events:#?}"
    );
}

#[tokio::test]
async fn own_rate_limit_keeps_a_burst_under_zendesk_limit() {
    // Zendesk allows 60 requests a minute; so does the middleware's limiter for this instance.
    let env = Env::start(Setup {
        workers: 4,
        zendesk: "update_rate_per_minute = 60".into(),
        ..Setup::default()
    })
    .await;
    env.sb.zendesk.set_rate_limit(60);
    let mut tickets = Vec::new();
    for i in 0..8 {
        let (t, lsid) = one_session(&env, &format!("burst{i}")).await;
        env.sb.appliance.end_session(&lsid);
        tickets.push(t);
    }
    env.delivered(8).await;
    let started = std::time::Instant::now();
    env.app.drain().await;
    for t in tickets {
        assert_eq!(our_comments(&env, t), 1);
    }
    // Burst of 6 (a tenth of the budget), then 0.9 per second: requests 7 and 8 were held back.
    assert!(
        started.elapsed() >= Duration::from_millis(2000),
        "limiter spaced the burst: {:?}",
        started.elapsed()
    );
    let statuses: Vec<u16> = env.sb.zendesk.requests().iter().map(|r| r.status).collect();
    assert!(!statuses.contains(&429), "no 429 storm: {statuses:?}");
}
