//! Failure handling against the sandbox: tokens, Zendesk storms, appliance errors, bad input,
//! duplicates, polling, restarts.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use middleware::beyondtrust::{ApplianceClient, ApplianceError};
use middleware::config::{ApplianceAuth, BeyondTrustConfig};
use middleware::secret::Secret;
use middleware::store::{now_ms, Status};
use sandbox::SessionSpec;

fn our_comments(env: &Env, ticket: u64) -> usize {
    env.sb
        .zendesk
        .comments(ticket)
        .iter()
        .filter(|c| c.body.contains("rsz/1 "))
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
        let (t, lsid) = env.ticket_session(&format!("t{i}"));
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

/// A client of the sandbox's appliance with nothing cached, as a configuration's worker has.
fn fresh_appliance_client(env: &Env) -> ApplianceClient {
    let cfg = &env.app.shared.config.configurations[0].beyondtrust;
    ApplianceClient::new(cfg, Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn concurrent_calls_share_one_token_request() {
    let env = Env::start(Setup::default()).await;
    let lsid = env.sb.appliance.create_session(SessionSpec::default());
    // Every appliance answer takes a while, so all calls wait for a token at the same time.
    env.sb.appliance.faults().slow(Duration::from_millis(200));
    let client = Arc::new(fresh_appliance_client(&env));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, lsid) = (client.clone(), lsid.clone());
        calls.spawn(async move { client.support_session(&lsid).await });
    }
    while let Some(answer) = calls.join_next().await {
        assert!(answer.unwrap().unwrap().is_some());
    }
    assert_eq!(
        env.sb.appliance.token_requests(),
        1,
        "never more than one live token request per configuration"
    );
}

#[tokio::test]
async fn token_is_cached_and_refreshed_shortly_before_expiry() {
    let env = Env::start(Setup::default()).await;
    // expires_in = 4: the client refreshes in the last quarter (after 3 s).
    env.sb.appliance.set_token_lifetime(Duration::from_secs(4));
    let lsid = env.sb.appliance.create_session(SessionSpec::default());
    let client = fresh_appliance_client(&env);
    let start = tokio::time::Instant::now();
    client.support_session(&lsid).await.unwrap();
    client.support_session(&lsid).await.unwrap();
    assert_eq!(env.sb.appliance.token_requests(), 1, "the token is cached");
    // The appliance's clock is wall time: wait (for real) until the token is about to expire.
    tokio::time::sleep_until(start + Duration::from_millis(3300)).await;
    assert_eq!(
        env.sb.appliance.live_tokens(),
        1,
        "the first token is still valid on the appliance"
    );
    client.support_session(&lsid).await.unwrap();
    assert_eq!(
        env.sb.appliance.token_requests(),
        2,
        "a fresh token was fetched before the old one expired"
    );
    assert!(
        env.sb.appliance.api_calls().iter().all(|c| c.status == 200),
        "refreshed before expiry, never a 401"
    );
}

/// A minimal plain-HTTP appliance whose report answer a test chooses, for what the sandbox
/// cannot be made to do (401 even with a fresh token; a 5xx carrying `<error>`).
struct MockAppliance {
    addr: std::net::SocketAddr,
    token_requests: Arc<AtomicUsize>,
    api_calls: Arc<AtomicUsize>,
}

async fn mock_appliance(status: u16, body: &'static str) -> MockAppliance {
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    let token_requests = Arc::new(AtomicUsize::new(0));
    let api_calls = Arc::new(AtomicUsize::new(0));
    let (t, a) = (token_requests.clone(), api_calls.clone());
    let app = axum::Router::new()
        .route(
            "/oauth2/token",
            post(move || {
                let n = t.fetch_add(1, Ordering::SeqCst);
                async move {
                    axum::Json(serde_json::json!({
                        "access_token": format!("token-{n}"),
                        "token_type": "Bearer",
                        "expires_in": 3600
                    }))
                }
            }),
        )
        .route(
            "/api/reporting",
            get(move || {
                a.fetch_add(1, Ordering::SeqCst);
                async move { (StatusCode::from_u16(status).unwrap(), body) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    MockAppliance {
        addr,
        token_requests,
        api_calls,
    }
}

/// An OAuth client of `mock` (over plain HTTP, which the config file refuses for OAuth).
fn mock_client(mock: &MockAppliance) -> ApplianceClient {
    let cfg = BeyondTrustConfig {
        host: mock.addr.to_string(),
        auth: ApplianceAuth::OAuth {
            client_id: "id".into(),
            client_secret: Secret::new("secret"),
        },
        locale: "en-us".into(),
        allow_invalid_certificates: false,
        ca_file: None,
        use_non_tls: true,
        outbound_event_types: vec![],
        polling_event_types: vec![],
        polling_interval_secs: 60,
        retry_attempt_limit: Some(0),
        retry_for_hours: 24,
        retry_outbound_event_types: vec![],
        retry_polling_event_types: vec![],
    };
    ApplianceClient::new(&cfg, Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn a_401_is_retried_once_with_a_fresh_token_and_no_more() {
    let mock = mock_appliance(401, "").await;
    let err = mock_client(&mock).support_session("abc").await.unwrap_err();
    assert!(matches!(err, ApplianceError::Auth(_)), "{err}");
    assert!(!err.is_transient());
    assert_eq!(
        mock.token_requests.load(Ordering::SeqCst),
        2,
        "one fresh token"
    );
    assert_eq!(mock.api_calls.load(Ordering::SeqCst), 2, "one retry");
}

#[tokio::test]
async fn a_5xx_error_answer_is_transient_and_keeps_its_message() {
    let mock = mock_appliance(
        503,
        "<error xmlns=\"http://www.beyondtrust.com/namespaces/API/reporting\">Reporting database is being upgraded</error>",
    )
    .await;
    let err = mock_client(&mock).support_session("abc").await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("503") && text.contains("Reporting database is being upgraded"),
        "{text}"
    );
}

#[tokio::test]
async fn evicted_token_gets_one_fresh_token_and_a_retry() {
    let env = Env::start(Setup::default()).await;
    let (t1, a) = env.ticket_session("a");
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
    let (t2, b) = env.ticket_session("b");
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
    let (t, lsid) = env.ticket_session("legacy");
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
        retry_attempt_limit: Some(1),
        ..Setup::default()
    })
    .await;
    let (t, lsid) = env.ticket_session("tls");
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
        retry_attempt_limit: Some(10),
        ..Setup::default()
    })
    .await;
    let mut sessions = Vec::new();
    for i in 0..3 {
        let (t, lsid) = env.ticket_session(&format!("storm{i}"));
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
    let (t1, a) = env.ticket_session("a");
    let (t2, b) = env.ticket_session("b");
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
        retry_attempt_limit: Some(2),
        ..Setup::default()
    })
    .await;
    let (t, lsid) = env.ticket_session("down");
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
async fn transient_errors_of_event_types_not_listed_for_retry_fail_at_once() {
    let env = Env::start(Setup {
        beyondtrust: format!("retry_outbound_event_types = [\"{END}\"]"),
        ..Setup::default()
    })
    .await;
    let ticket = env.sb.zendesk.create_ticket("survey");
    let lsid = env.sb.appliance.create_session(
        SessionSpec::default()
            .external_key(ticket.to_string())
            .customer_survey([("rating", "4")]),
    );
    env.sb.appliance.end_session(&lsid);
    env.delivered(2).await;
    let shared = env.app.shared.clone();
    assert!(middleware::worker::process_next(&shared).await.unwrap());
    env.sb.zendesk.faults().fail_next(1, 503);
    assert!(middleware::worker::process_next(&shared).await.unwrap());
    let events = env.app.events().await;
    assert_eq!(
        (events[0].event_type.as_str(), events[0].status),
        (END, Status::Done)
    );
    let survey = &events[1];
    assert_eq!(
        (survey.event_type.as_str(), survey.status),
        (CUST_SURVEY, Status::Failed)
    );
    assert!(
        survey.last_error.as_deref().unwrap().contains("503"),
        "{:?}",
        survey.last_error
    );
    assert_eq!(env.app.store().attempts(survey.id).await.unwrap().len(), 1);
    assert_eq!(
        env.app.store().next_due_at().await.unwrap(),
        None,
        "nothing retried"
    );
}

#[tokio::test]
async fn zendesk_401_and_403_fail_at_once_with_the_message_kept() {
    let env = Env::start(Setup::default()).await;
    let (t1, a) = env.ticket_session("401");
    let (t2, b) = env.ticket_session("403");
    env.sb.appliance.end_session(&a);
    env.sb.appliance.end_session(&b);
    env.delivered(2).await;
    let shared = env.app.shared.clone();
    for status in [401, 403] {
        env.sb.zendesk.faults().fail_next(1, status);
        assert!(middleware::worker::process_next(&shared).await.unwrap());
    }
    let events = env.app.events().await;
    for (e, status) in events.iter().zip(["401", "403"]) {
        assert_eq!(e.status, Status::Failed, "{e:#?}");
        let err = e.last_error.as_deref().unwrap();
        assert!(
            err.contains(status) && err.contains("Simulated failure"),
            "{err}"
        );
        assert!(!err.contains(&env.sb.zendesk.api_token()));
        assert_eq!(env.app.store().attempts(e.id).await.unwrap().len(), 1);
    }
    assert_eq!(
        env.app.store().next_due_at().await.unwrap(),
        None,
        "nothing retried"
    );
    assert_eq!((our_comments(&env, t1), our_comments(&env, t2)), (0, 0));
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
    // "No archives found" may mean "not archived yet": retried (here up to the test's limit of
    // five), then failed with the appliance's answer kept.
    assert_eq!(e.status, Status::Failed);
    assert!(
        e.last_error
            .as_deref()
            .unwrap()
            .contains("No archives found"),
        "{:?}",
        e.last_error
    );
    assert_eq!(env.app.store().attempts(e.id).await.unwrap().len(), 6);
    assert_eq!(env.comment_puts(), 0);
}

#[tokio::test]
async fn appliance_outage_is_retried() {
    let env = Env::start(Setup::default()).await;
    let (t, lsid) = env.ticket_session("outage");
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
    let (t, lsid) = env.ticket_session("dup");
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
    let (t, lsid) = env.ticket_session("polled");
    env.sb.appliance.end_session(&lsid);
    let before = now_ms() / 1000;
    assert_eq!(env.app.poll_once().await, 1);
    // Without a checkpoint the first poll looks one interval back, then persists one.
    let first_since = last_listing_since(&env);
    assert!(
        (before - 61..=before - 59).contains(&first_since),
        "{first_since} vs now {before}"
    );
    let checkpoint = env.app.store().checkpoint("Sandbox").await.unwrap();
    assert!(
        checkpoint.is_some_and(|c| c >= first_since),
        "{checkpoint:?}"
    );
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
    let events = env.app.events().await;
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(
        events[1].status,
        Status::Skipped,
        "the late outbound end (a type this configuration does not process) is only recorded"
    );
    assert_eq!(our_comments(&env, t), 1);
    // The next poll asks from the persisted checkpoint (e.g. after a long outage or restart).
    let an_hour_ago = now_ms() / 1000 - 3600;
    env.app
        .store()
        .set_checkpoint("Sandbox", an_hour_ago)
        .await
        .unwrap();
    assert_eq!(env.app.poll_once().await, 0);
    assert_eq!(last_listing_since(&env), an_hour_ago);
    let advanced = env
        .app
        .store()
        .checkpoint("Sandbox")
        .await
        .unwrap()
        .unwrap();
    assert!(
        advanced > an_hour_ago,
        "checkpoint moves forward: {advanced}"
    );
}

/// `end_time` of the last `SupportSessionListing` call.
fn last_listing_since(env: &Env) -> i64 {
    env.sb
        .appliance
        .api_calls()
        .iter()
        .rev()
        .find(|c| c.action.as_deref() == Some("SupportSessionListing"))
        .and_then(|c| c.param("end_time")?.parse().ok())
        .expect("a SupportSessionListing call with end_time")
}

#[tokio::test]
async fn restart_with_work_in_flight_loses_and_duplicates_nothing() {
    let mut env = Env::start(Setup::default()).await;
    let mut sessions = Vec::new();
    for i in 0..3 {
        let (t, lsid) = env.ticket_session(&format!("restart{i}"));
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
    // Started before any request can be made: the limiter's spacing is a lower bound on the
    // whole run, which load can only lengthen.
    let started = std::time::Instant::now();
    let mut tickets = Vec::new();
    for i in 0..8 {
        let (t, lsid) = env.ticket_session(&format!("burst{i}"));
        env.sb.appliance.end_session(&lsid);
        tickets.push(t);
    }
    env.delivered(8).await;
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
