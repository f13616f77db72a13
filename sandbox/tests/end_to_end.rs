//! Real-port tests: the sandbox on 127.0.0.1, outbound events into a recording receiver,
//! HTTPS with the generated certificate, outages, dropped answers, the control API, the binary.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use sandbox::{Party, Sandbox, SandboxOptions, SessionSpec};
use serde_json::{json, Value};
use tokio::sync::Notify;

const WAIT: Duration = Duration::from_secs(15);

/// What the receiver saw: the status it answered and the form fields.
type Log = Arc<Mutex<Vec<(u16, Vec<(String, String)>)>>>;

struct Receiver {
    url: String,
    log: Log,
    arrived: Arc<Notify>,
    fail_first: Arc<AtomicU32>,
}

#[derive(Clone)]
struct ReceiverState {
    log: Log,
    arrived: Arc<Notify>,
    fail_first: Arc<AtomicU32>,
}

async fn ers_post(State(s): State<ReceiverState>, headers: HeaderMap, body: String) -> StatusCode {
    let form_encoded = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let fail = s
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail || !form_encoded { 500 } else { 200 };
    s.log.lock().unwrap().push((status, fields));
    s.arrived.notify_one();
    StatusCode::from_u16(status).unwrap()
}

/// An HTTP receiver on 127.0.0.1:0 that records every POST and answers 500 to the first
/// `fail_first` ones.
async fn receiver(fail_first: u32) -> Receiver {
    let state = ReceiverState {
        log: Log::default(),
        arrived: Arc::new(Notify::new()),
        fail_first: Arc::new(AtomicU32::new(fail_first)),
    };
    let app = Router::new()
        .route("/ERSPost", post(ers_post))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{addr}/ERSPost?appliance=Default"),
        log: state.log,
        arrived: state.arrived,
        fail_first: state.fail_first,
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn start(events_url: Option<String>) -> Sandbox {
    Sandbox::start(SandboxOptions {
        events_url,
        event_retry_backoff: Duration::from_millis(50),
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts")
}

fn surveyed_session(key: &str) -> SessionSpec {
    SessionSpec::default()
        .external_key(key)
        .chat(Party::REP, "Hello")
        .customer_survey([("rating", "5")])
        .rep_survey([("comments", "Done")])
}

#[tokio::test]
async fn scripted_session_events_reach_the_receiver_in_order() {
    let rx = receiver(0).await;
    let sandbox = start(Some(rx.url.clone())).await;
    let a = &sandbox.appliance;
    let lsid = a.create_session(surveyed_session("12345"));
    assert_eq!(lsid.len(), 32);
    assert!(lsid.chars().all(|c| c.is_ascii_hexdigit()));
    a.end_session(&lsid);
    a.wait_events_delivered(3, WAIT)
        .await
        .expect("three events");
    let log = rx.log.lock().unwrap().clone();
    let names: Vec<&str> = log
        .iter()
        .map(|(_, f)| field(f, "event").unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "support_conference_end",
            "support_conference_customer_exit_survey_completed",
            "support_conference_rep_exit_survey_completed"
        ]
    );
    for (status, fields) in &log {
        assert_eq!(*status, 200);
        assert_eq!(field(fields, "lsid"), Some(lsid.as_str()));
        assert_eq!(field(fields, "external_key"), Some("12345"));
        assert_eq!(
            field(fields, "appliance_id"),
            Some(a.appliance_id().as_str())
        );
        assert!(field(fields, "version").is_some());
        assert!(field(fields, "timestamp").unwrap().parse::<i64>().is_ok());
    }
    let delivered = a.delivered_events();
    assert_eq!(delivered.len(), 3);
    assert_eq!(delivered[0].url, rx.url);
    assert_eq!(delivered[0].event(), "support_conference_end");
    assert_eq!(delivered[0].attempts, vec![Some(200)]);
    assert_eq!(a.pending_events(), 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_non_200_answer_blocks_the_queue_and_the_same_event_is_retried_first() {
    let rx = receiver(1).await;
    let sandbox = start(Some(rx.url.clone())).await;
    let a = &sandbox.appliance;
    let first = a.create_session(SessionSpec::default().external_key("1"));
    let second = a.create_session(SessionSpec::default().external_key("2"));
    a.end_session(&first);
    a.end_session(&second);
    a.wait_events_delivered(2, WAIT)
        .await
        .expect("both delivered");
    let log = rx.log.lock().unwrap().clone();
    let seen: Vec<(u16, &str)> = log
        .iter()
        .map(|(s, f)| (*s, field(f, "lsid").unwrap()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (500, first.as_str()),
            (200, first.as_str()),
            (200, second.as_str())
        ]
    );
    let delivered = a.delivered_events();
    assert_eq!(delivered[0].attempts, vec![Some(500), Some(200)]);
    assert_eq!(delivered[1].attempts, vec![Some(200)]);
    assert_eq!(rx.fail_first.load(Ordering::SeqCst), 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn connection_errors_are_retried_and_events_wait_for_a_url() {
    // A port with nothing listening: every attempt is a connection error.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let sandbox = start(Some(format!("http://{closed}/ERSPost"))).await;
    let a = &sandbox.appliance;
    let lsid = a.create_session(SessionSpec::default());
    a.end_session(&lsid);
    assert!(a
        .wait_events_delivered(1, Duration::from_millis(300))
        .await
        .is_err());
    assert_eq!(a.pending_events(), 1);
    a.set_events_url(None);
    let rx = receiver(0).await;
    a.set_events_url(Some(rx.url.clone()));
    a.wait_events_delivered(1, WAIT)
        .await
        .expect("delivered once the URL works");
    let attempts = &a.delivered_events()[0].attempts;
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert!(attempts[..attempts.len() - 1].iter().all(Option::is_none));
    assert_eq!(attempts.last(), Some(&Some(200)));
    rx.arrived.notified().await;
    sandbox.shutdown().await;
}

fn trusting_client(sandbox: &Sandbox) -> reqwest::Client {
    let pem = sandbox
        .appliance
        .certificate_pem()
        .expect("TLS is on by default");
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test]
async fn oauth_and_reporting_over_https_with_the_generated_certificate() {
    let sandbox = start(None).await;
    let a = &sandbox.appliance;
    assert!(a.base_url().starts_with("https://127.0.0.1:"));
    assert_eq!(a.base_url(), format!("https://{}", a.host()));
    let untrusting = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(untrusting
        .get(format!("{}/api/command", a.base_url()))
        .send()
        .await
        .is_err());
    let client = trusting_client(&sandbox);
    let token: Value = client
        .post(format!("{}/oauth2/token", a.base_url()))
        .basic_auth(a.client_id(), Some(a.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap();
    let lsid = a.create_session(SessionSpec::default().external_key("9"));
    a.end_session(&lsid);
    let report = client
        .get(format!("{}/api/reporting", a.base_url()))
        .bearer_auth(bearer)
        .query(&[
            ("generate_report", "SupportSession"),
            ("lsid", lsid.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let body = report.text().await.unwrap();
    assert!(body.contains(&format!("<session lsid=\"{lsid}\">")));
    assert_eq!(a.live_tokens(), 1);
    assert_eq!(a.api_calls().len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn down_refuses_connections_and_up_serves_again() {
    let sandbox = start(None).await;
    let z = &sandbox.zendesk;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let me = format!("{}/api/v2/users/me.json", z.base_url());
    assert_eq!(client.get(&me).send().await.unwrap().status(), 200);
    z.faults().set_down(true);
    // The accept loop closes the port asynchronously; wait for the refusal, bounded.
    let refused = tokio::time::timeout(WAIT, async {
        loop {
            match client.get(&me).send().await {
                Err(e) if e.is_connect() => return,
                _ => tokio::task::yield_now().await,
            }
        }
    })
    .await;
    assert!(refused.is_ok(), "connections must be refused while down");
    z.faults().set_down(false);
    let back = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(r) = client.get(&me).send().await {
                return r.status();
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("back up");
    assert_eq!(back, 200);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn drop_next_closes_the_connection_mid_answer_and_timeout_next_hangs() {
    let sandbox = start(None).await;
    let z = &sandbox.zendesk;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let me = format!("{}/api/v2/users/me.json", z.base_url());
    z.faults().drop_next(1);
    let outcome = match client.get(&me).send().await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "the answer must be cut");
    z.faults().timeout_next(1);
    let hung = client
        .get(&me)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.unwrap_err().is_timeout());
    z.faults().fail_next(1, 502);
    assert_eq!(client.get(&me).send().await.unwrap().status(), 502);
    assert_eq!(client.get(&me).send().await.unwrap().status(), 200);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn control_api_drives_sessions_and_faults_over_http() {
    let rx = receiver(0).await;
    let sandbox = start(None).await;
    let a = &sandbox.appliance;
    let client = trusting_client(&sandbox);
    let control = a.control_url();
    let put = client
        .put(format!("{control}/events_url"))
        .json(&json!({"url": rx.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let created: Value = client
        .post(format!("{control}/sessions"))
        .json(&json!({"external_key": "55", "events": [{"type": "chat", "from": "system", "text": "hi"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lsid = created["lsid"].as_str().unwrap().to_string();
    assert_eq!(a.session_external_key(&lsid).as_deref(), Some("55"));
    let ended = client
        .post(format!("{control}/sessions/{lsid}/end"))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    a.wait_events_delivered(1, WAIT).await.unwrap();
    let events: Value = client
        .get(format!("{control}/events"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        events["delivered"][0]["fields"][0],
        json!(["event", "support_conference_end"])
    );
    let unknown = client
        .post(format!("{control}/sessions/nope/end"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let faults: Value = client
        .post(format!("{control}/faults"))
        .json(&json!({"fail_next": 1, "status": 503}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["pending_faults"], 1);
    let api = client
        .get(format!("{}/api/command", a.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 503);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_both_ports() {
    let sandbox = start(None).await;
    let zendesk = sandbox.zendesk.base_url();
    sandbox.shutdown().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let err = client
        .get(format!("{zendesk}/api/v2/users/me.json"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect());
}

/// A receiver that answers `first` to the first POST of every event, then 200; anything that
/// reaches `/elsewhere` is logged too (a followed redirect would land there).
async fn picky_receiver(first: u16) -> (String, Arc<Mutex<Vec<(String, u16)>>>) {
    let log: Arc<Mutex<Vec<(String, u16)>>> = Arc::default();
    let seen = Arc::new(AtomicU32::new(0));
    let post_log = log.clone();
    let elsewhere_log = log.clone();
    let app = Router::new()
        .route(
            "/ERSPost",
            post(move || {
                let log = post_log.clone();
                let seen = seen.clone();
                async move {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    let status = if n.is_multiple_of(2) { first } else { 200 };
                    log.lock().unwrap().push(("/ERSPost".into(), status));
                    let mut response = axum::response::Response::new(axum::body::Body::empty());
                    *response.status_mut() = StatusCode::from_u16(status).unwrap();
                    response
                        .headers_mut()
                        .insert("location", "/elsewhere".parse().unwrap());
                    response
                }
            }),
        )
        .route(
            "/elsewhere",
            axum::routing::any(move || {
                let log = elsewhere_log.clone();
                async move {
                    log.lock().unwrap().push(("/elsewhere".into(), 200));
                    StatusCode::OK
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/ERSPost"), log)
}

#[tokio::test]
async fn only_200_delivers_redirects_and_other_2xx_are_retried() {
    for first in [302u16, 307, 204, 201] {
        let (url, log) = picky_receiver(first).await;
        let sandbox = start(Some(url)).await;
        let a = &sandbox.appliance;
        let lsid = a.create_session(SessionSpec::default().external_key("1"));
        a.end_session(&lsid);
        a.wait_events_delivered(1, WAIT).await.unwrap();
        let delivered = a.delivered_events();
        assert_eq!(
            delivered[0].attempts,
            vec![Some(first), Some(200)],
            "{first}"
        );
        let paths: Vec<String> = log.lock().unwrap().iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(
            paths,
            vec!["/ERSPost", "/ERSPost"],
            "{first}: redirect followed"
        );
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn connection_close_is_recorded_for_calls_over_https() {
    let sandbox = start(None).await;
    let a = &sandbox.appliance;
    let client = trusting_client(&sandbox);
    let token: Value = client
        .post(format!("{}/oauth2/token", a.base_url()))
        .header("connection", "close")
        .basic_auth(a.client_id(), Some(a.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap();
    for close in [true, false] {
        let mut request = client
            .get(format!("{}/api/command", a.base_url()))
            .bearer_auth(bearer)
            .query(&[("action", "get_api_info")]);
        if close {
            request = request.header("connection", "close");
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 200);
        answer.text().await.unwrap();
    }
    let token_calls = a.token_calls();
    assert_eq!(token_calls.len(), 1);
    assert!(token_calls[0].connection_close);
    let closes: Vec<bool> = a.api_calls().iter().map(|c| c.connection_close).collect();
    assert_eq!(closes, vec![true, false]);
    sandbox.shutdown().await;
}
