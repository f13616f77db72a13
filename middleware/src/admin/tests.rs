//! Router tests (no network): authentication, CSRF, secrets never shown, escaping, Retry.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use tower::ServiceExt;

use super::{router, AdminState};
use crate::app::Shared;
use crate::secret::Secret;
use crate::store::{NewEvent, Source, Status};
use crate::testing::{fast_tuning, remove_sqlite_files, temp_database_url};

pub(super) const PASSWORD: &str = "admin-pw-Xyz-123";
pub(super) const CLIENT_SECRET: &str = "bt-client-s3cret-value";
pub(super) const LEGACY_PASSWORD: &str = "legacy-pa55word-value";
pub(super) const ZENDESK_TOKEN: &str = "zd-api-t0ken-value";
pub(super) const HOST: &str = "127.0.0.1:53231";
const HOSTILE_LSID: &str = "<script>alert('lsid')</script>";
const HOSTILE_ERROR: &str = "Zendesk 404: <img src=x onerror=alert(1)>";

pub(super) struct Admin {
    pub(super) app: Router,
    pub(super) shared: Arc<Shared>,
    db: String,
}

impl Drop for Admin {
    fn drop(&mut self) {
        remove_sqlite_files(&self.db);
    }
}

pub(super) async fn admin() -> Admin {
    let db = temp_database_url("admin");
    let text = format!(
        r#"
[server]
database_url = "{db}"
events_listen = "10.1.2.3:8180"

[[configuration]]
name = "Production EU"
appliance_id = "default"
[configuration.beyondtrust]
host = "support.example.com"
client_id = "client-id-1"
client_secret = "{CLIENT_SECRET}"
[configuration.zendesk]
url = "https://acme.zendesk.com"
username = "api@acme.example"
token = "{ZENDESK_TOKEN}"

[[configuration]]
name = "Lab"
appliance_id = "lab_1"
disabled = true
[configuration.beyondtrust]
host = "lab.example.com:8443"
username = "apiuser"
password = "{LEGACY_PASSWORD}"
polling_event_types = ["support_conference_end"]
[configuration.zendesk]
url = "https://lab.zendesk.com"
username = "lab@acme.example"
token = "{ZENDESK_TOKEN}"
"#
    );
    let config = crate::config::parse(&text, "admin-test.toml", &|_| None).expect("config");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let shared = Shared::build(config, fast_tuning(), rx)
        .await
        .expect("shared");
    let app = router(AdminState::new(shared.clone(), Secret::new(PASSWORD)));
    Admin { app, shared, db }
}

/// Stores an event and, with `error`, fails it as a worker would.
pub(super) async fn event(a: &Admin, lsid: &str, error: Option<&str>) -> i64 {
    let new = NewEvent {
        configuration: "Production EU".into(),
        appliance_id: "default".into(),
        event_type: crate::config::SESSION_END.into(),
        lsid: lsid.into(),
        event_timestamp: format!("{}", rand::random::<u32>()),
        source: Source::Outbound,
        fields: vec![
            ("event".into(), crate::config::SESSION_END.into()),
            ("external_key".into(), "<b>42</b>".into()),
        ],
        status: Status::Received,
        note: None,
    };
    let crate::store::Inserted::New(id) = a.shared.store.insert_event(&new).await.unwrap() else {
        panic!("duplicate")
    };
    if let Some(error) = error {
        let claimed = a
            .shared
            .store
            .claim_due(Duration::from_secs(60))
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(claimed.id, id);
        assert!(a.shared.store.mark_failed(&claimed, error).await.unwrap());
    }
    id
}

pub(super) fn basic(password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"))
    )
}

pub(super) async fn send(
    a: &Admin,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let r = a.app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

pub(super) fn get(path: &str) -> axum::http::request::Builder {
    Request::get(path).header(header::HOST, HOST)
}

pub(super) fn post(path: &str) -> axum::http::request::Builder {
    Request::post(path).header(header::HOST, HOST)
}

pub(super) async fn login(a: &Admin) -> String {
    let (status, headers, _) = send(
        a,
        post("/login")
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("password={PASSWORD}")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers
        .get(header::SET_COOKIE)
        .expect("cookie")
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

pub(super) fn assert_no_secrets(body: &str) {
    for s in [PASSWORD, CLIENT_SECRET, LEGACY_PASSWORD, ZENDESK_TOKEN] {
        assert!(!body.contains(s), "secret {s} shown:\n{body}");
    }
}

#[tokio::test]
async fn unauthenticated_requests_get_the_login_page_or_401() {
    let a = admin().await;
    let (status, headers, _) = send(&a, get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/login");
    let (status, _, body) = send(&a, get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("type=\"password\"") && body.contains("action=\"/login\""));
    let (status, headers, _) = send(&a, get("/api/status").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(header::WWW_AUTHENTICATE).is_some());
    let id = event(&a, "x", Some("boom")).await;
    let (status, _, _) = send(
        &a,
        post(&format!("/events/{id}/retry"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(
        &a,
        get("/events")
            .header(header::COOKIE, "mw_admin_session=forged")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "an unknown session token is no session"
    );
    assert_eq!(
        a.shared.store.event(id).await.unwrap().unwrap().status,
        Status::Failed
    );
}

#[tokio::test]
async fn wrong_password_is_refused_with_401() {
    let a = admin().await;
    let (status, headers, body) = send(
        &a,
        post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("password=guess"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("Wrong password"));
    assert!(headers.get(header::SET_COOKIE).is_none());
    let (status, _, body) = send(
        &a,
        get("/api/status")
            .header(header::AUTHORIZATION, basic("guess"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.contains(PASSWORD));
    let (status, _, _) = send(
        &a,
        get("/api/status")
            .header(header::AUTHORIZATION, basic(PASSWORD))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn login_shows_configurations_without_secrets_and_logout_ends_the_session() {
    let a = admin().await;
    let cookie = login(&a).await;
    let (status, headers, page) = send(
        &a,
        get("/")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    for expected in [
        "Production EU",
        "support.example.com",
        "OAuth",
        "https://acme.zendesk.com",
        "api@acme.example",
        "http://10.1.2.3:8180/ERSPost</code>",
        "Lab",
        "lab.example.com:8443",
        "legacy",
        "http://10.1.2.3:8180/ERSPost?appliance=lab_1",
        "(disabled)",
        "support_conference_end every 60 s",
        "action=\"/configurations/Production%20EU/test\"",
        "Test connection",
    ] {
        assert!(
            page.contains(expected),
            "dashboard lacks {expected}:\n{page}"
        );
    }
    assert_no_secrets(&page);
    let (status, _, json) = send(
        &a,
        get("/api/configurations")
            .header(header::AUTHORIZATION, basic(PASSWORD))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_no_secrets(&json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["auth"], "OAuth");
    assert_eq!(v[1]["enabled"], false);
    assert_eq!(
        v[1]["outbound_event_url"],
        "http://10.1.2.3:8180/ERSPost?appliance=lab_1"
    );

    let (status, _, _) = send(
        &a,
        post("/logout")
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = send(
        &a,
        get("/")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "logged out");
}

#[tokio::test]
async fn counts_filter_and_detail_through_the_api() {
    let a = admin().await;
    let failed = event(&a, "lsid-failed", Some("Zendesk 404 RecordNotFound")).await;
    let waiting = event(&a, "lsid-received", None).await;
    let auth = basic(PASSWORD);
    let (_, _, status) = send(
        &a,
        get("/api/status")
            .header(header::AUTHORIZATION, &auth)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        (
            v["counts"]["failed"].as_u64(),
            v["counts"]["received"].as_u64(),
            v["total"].as_u64()
        ),
        (Some(1), Some(1), Some(2))
    );
    let (_, _, list) = send(
        &a,
        get("/api/events?status=failed")
            .header(header::AUTHORIZATION, &auth)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["id"].as_i64(), Some(failed));
    assert_eq!(events[0]["last_error"], "Zendesk 404 RecordNotFound");
    let (_, _, all) = send(
        &a,
        get("/api/events")
            .header(header::AUTHORIZATION, &auth)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&all).unwrap();
    assert_eq!(v["events"][0]["id"].as_i64(), Some(waiting), "newest first");
    let (code, _, _) = send(
        &a,
        get("/api/events?status=bogus")
            .header(header::AUTHORIZATION, &auth)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (_, _, detail) = send(
        &a,
        get(&format!("/api/events/{failed}"))
            .header(header::AUTHORIZATION, &auth)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(v["attempt_log"][0]["error"], "Zendesk 404 RecordNotFound");
    assert_eq!(v["status"], "failed");
    let (code, _, _) = send(
        &a,
        get("/api/events/999999")
            .header(header::AUTHORIZATION, &auth)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn retry_requeues_only_same_origin_posts() {
    let a = admin().await;
    let id = event(&a, "lsid-1", Some("Zendesk 404 RecordNotFound")).await;
    let other = event(&a, "lsid-2", Some("boom")).await;
    let cookie = login(&a).await;
    let path = format!("/events/{id}/retry");
    let refused = [
        post(&path)
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "http://evil.example"),
        post(&path)
            .header(header::COOKIE, &cookie)
            .header(header::REFERER, "http://evil.example/page"),
        post(&path).header(header::COOKIE, &cookie),
        post(&format!("/api/events/{id}/retry"))
            .header(header::AUTHORIZATION, basic(PASSWORD))
            .header(header::ORIGIN, "null"),
    ];
    for req in refused {
        let (status, _, _) = send(&a, req.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        a.shared.store.event(id).await.unwrap().unwrap().status,
        Status::Failed,
        "nothing changed"
    );

    let woken = a.shared.wake.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    let (status, headers, _) = send(
        &a,
        post(&path)
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!("/events/{id}")
    );
    tokio::time::timeout(Duration::from_secs(1), woken)
        .await
        .expect("workers woken");
    let e = a.shared.store.event(id).await.unwrap().unwrap();
    assert_eq!(e.status, Status::Received);
    assert_eq!(
        a.shared.store.attempts(id).await.unwrap().len(),
        1,
        "history kept"
    );

    // Not failed any more: a second retry conflicts. Scripts with Basic and no Origin may post.
    let (status, _, body) = send(
        &a,
        post(&format!("/api/events/{id}/retry"))
            .header(header::AUTHORIZATION, basic(PASSWORD))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _, body) = send(
        &a,
        post(&format!("/api/events/{other}/retry"))
            .header(header::AUTHORIZATION, basic(PASSWORD))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        a.shared.store.event(other).await.unwrap().unwrap().status,
        Status::Received
    );
}

#[tokio::test]
async fn hostile_event_values_stay_inert() {
    let a = admin().await;
    let id = event(&a, HOSTILE_LSID, Some(HOSTILE_ERROR)).await;
    let cookie = login(&a).await;
    for path in [
        "/".to_string(),
        "/events".to_string(),
        "/events?status=failed".to_string(),
        format!("/events/{id}"),
    ] {
        let (status, _, page) = send(
            &a,
            get(&path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let lower = page.to_ascii_lowercase();
        assert!(
            !lower.contains("<script") && !lower.contains("<img") && !lower.contains("<b>42"),
            "{path} let markup through:\n{page}"
        );
        assert!(
            page.contains("&lt;script&gt;alert(&#39;lsid&#39;)&lt;/script&gt;"),
            "{path}:\n{page}"
        );
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{path}:\n{page}"
        );
    }
    let (_, _, json) = send(
        &a,
        get(&format!("/api/events/{id}"))
            .header(header::AUTHORIZATION, basic(PASSWORD))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["lsid"], HOSTILE_LSID, "JSON carries the value itself");
}

#[tokio::test]
async fn events_are_paged_by_200_newest_first() {
    let a = admin().await;
    let failed = event(&a, "failed-one", Some("boom")).await;
    let mut last = 0;
    for i in 0..204 {
        last = event(&a, &format!("lsid-{i}"), None).await;
    }
    let auth = basic(PASSWORD);
    let page = |p: &str| {
        get(&format!("/api/events{p}"))
            .header(header::AUTHORIZATION, &auth)
            .body(Body::empty())
            .unwrap()
    };
    let v: serde_json::Value = serde_json::from_str(&send(&a, page("")).await.2).unwrap();
    assert_eq!(v["events"].as_array().unwrap().len(), 200);
    assert_eq!(
        (v["events"][0]["id"].as_i64(), v["more"].as_bool()),
        (Some(last), Some(true))
    );
    let v: serde_json::Value = serde_json::from_str(&send(&a, page("?page=1")).await.2).unwrap();
    let rows = v["events"].as_array().unwrap();
    assert_eq!((rows.len(), v["more"].as_bool()), (5, Some(false)));
    assert_eq!(rows[4]["id"].as_i64(), Some(failed), "oldest last");
    let v: serde_json::Value =
        serde_json::from_str(&send(&a, page("?status=received")).await.2).unwrap();
    assert_eq!(v["events"].as_array().unwrap().len(), 200);
    let v: serde_json::Value =
        serde_json::from_str(&send(&a, page("?status=received&page=1")).await.2).unwrap();
    assert_eq!(v["events"].as_array().unwrap().len(), 4);
    let v: serde_json::Value = serde_json::from_str(
        &send(
            &a,
            get("/api/status")
                .header(header::AUTHORIZATION, &auth)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .2,
    )
    .unwrap();
    assert_eq!(
        (
            v["counts"]["received"].as_u64(),
            v["counts"]["failed"].as_u64(),
            v["total"].as_u64()
        ),
        (Some(204), Some(1), Some(205))
    );
    let cookie = login(&a).await;
    let html = send(
        &a,
        get("/events?status=received")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .2;
    assert!(
        html.contains("href=\"/events?status=received&amp;page=1\">Older</a>"),
        "{html}"
    );
}
