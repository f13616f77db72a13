use std::time::Duration;

use super::*;
use crate::test_support::{closing, get, send};

#[tokio::test]
async fn token_answers_bearer_json_with_expires_in() {
    let (a, r) = appliance();
    let answer = token_answer(&a, &r).await;
    assert_eq!(answer.status, 200);
    assert!(answer
        .header("content-type")
        .starts_with("application/json"));
    assert_eq!(answer.header("cache-control"), "no-store");
    let json = answer.json();
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3600);
    assert!(json["access_token"].as_str().is_some_and(|t| t.len() >= 32));
    assert_eq!(a.token_requests(), 1);
    assert_eq!(a.live_tokens(), 1);
}

#[tokio::test]
async fn token_with_bad_client_credentials_is_401_json() {
    let (a, r) = appliance();
    let auth = basic(&a.client_id(), "wrong");
    let answer = send(
        &r,
        post_form(
            "/oauth2/token",
            Some(&auth),
            "grant_type=client_credentials",
        ),
    )
    .await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["error"], "invalid_client");
    let answer = send(
        &r,
        post_form("/oauth2/token", None, "grant_type=client_credentials"),
    )
    .await;
    assert_eq!(answer.status, 401);
    assert_eq!(a.live_tokens(), 0);
}

#[tokio::test]
async fn token_requires_the_client_credentials_grant() {
    let (a, r) = appliance();
    let auth = basic(&a.client_id(), &a.client_secret());
    let missing = send(&r, post_form("/oauth2/token", Some(&auth), "")).await;
    assert_eq!(
        (missing.status, missing.json()["error"].clone()),
        (400, "invalid_request".into())
    );
    let other = send(
        &r,
        post_form("/oauth2/token", Some(&auth), "grant_type=password"),
    )
    .await;
    assert_eq!(
        (other.status, other.json()["error"].clone()),
        (400, "unsupported_grant_type".into())
    );
    let via_get = send(
        &r,
        get("/oauth2/token?grant_type=client_credentials", Some(&auth)),
    )
    .await;
    assert_eq!(via_get.status, 405);
}

#[tokio::test]
async fn the_31st_token_evicts_the_oldest() {
    let (a, r) = appliance();
    let first = bearer(&a, &r).await;
    let second = bearer(&a, &r).await;
    for _ in 0..29 {
        bearer(&a, &r).await;
    }
    assert_eq!(a.live_tokens(), 30);
    let evicted = send(&r, get("/api/command?action=get_api_info", Some(&first))).await;
    assert_eq!(evicted.status, 401);
    assert!(evicted.body.contains("<error"));
    assert_eq!(evicted.header("www-authenticate"), "Bearer");
    let kept = send(&r, get("/api/command?action=get_api_info", Some(&second))).await;
    assert_eq!(kept.status, 200);
}

#[tokio::test(start_paused = true)]
async fn expired_tokens_are_refused() {
    let (a, r) = appliance_with(lifetime(60));
    let token = bearer(&a, &r).await;
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(
        send(&r, get("/api/command?action=get_api_info", Some(&token)))
            .await
            .status,
        200
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(
        send(&r, get("/api/command?action=get_api_info", Some(&token)))
            .await
            .status,
        401
    );
    assert_eq!(a.live_tokens(), 0);
}

#[tokio::test]
async fn set_token_lifetime_applies_to_new_tokens() {
    let (a, r) = appliance();
    a.set_token_lifetime(Duration::from_secs(5));
    assert_eq!(token_answer(&a, &r).await.json()["expires_in"], 5);
}

#[tokio::test]
async fn api_calls_without_credentials_are_401() {
    let (a, r) = appliance();
    let answer = send(&r, get("/api/command?action=get_api_info", None)).await;
    assert_eq!(answer.status, 401);
    let answer = send(
        &r,
        get(
            "/api/reporting?generate_report=SupportSession&lsid=x",
            Some("Bearer nope"),
        ),
    )
    .await;
    assert_eq!(answer.status, 401);
    let statuses: Vec<u16> = a.api_calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![401, 401], "refused calls are recorded too");
}

#[tokio::test]
async fn legacy_username_and_password_work_on_older_appliances() {
    let (a, r) = appliance();
    let uri = format!(
        "/api/command?action=get_api_info&username={}&password={}",
        a.legacy_username(),
        a.legacy_password()
    );
    let answer = send(&r, get(&uri, None)).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("<api_information"));
    let wrong = format!(
        "/api/command?action=get_api_info&username={}&password=x",
        a.legacy_username()
    );
    assert_eq!(send(&r, get(&wrong, None)).await.status, 401);
    let form = format!(
        "action=get_api_info&username={}&password={}",
        a.legacy_username(),
        a.legacy_password()
    );
    assert_eq!(
        send(&r, post_form("/api/command", None, &form))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn oauth_only_appliances_refuse_legacy_credentials() {
    let (a, r) = appliance_with(SandboxOptions {
        oauth_only: true,
        ..SandboxOptions::default()
    });
    let uri = format!(
        "/api/command?action=get_api_info&username={}&password={}",
        a.legacy_username(),
        a.legacy_password()
    );
    let answer = send(&r, get(&uri, None)).await;
    assert_eq!(answer.status, 401);
    assert!(answer.body.contains("OAuth"));
    assert_eq!(
        api(&a, &r, "/api/command?action=get_api_info").await.status,
        200
    );
}

#[tokio::test]
async fn recorded_api_calls_never_hold_passwords() {
    let (a, r) = appliance();
    let uri = format!(
        "/api/command?action=get_api_info&username={}&password={}",
        a.legacy_username(),
        a.legacy_password()
    );
    send(&r, get(&uri, None)).await;
    let calls = a.api_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action.as_deref(), Some("get_api_info"));
    assert_eq!(calls[0].param("username"), Some("api_user"));
    assert!(calls[0]
        .params
        .iter()
        .all(|(k, v)| k != "password" && *v != a.legacy_password()));
}

#[tokio::test]
async fn grant_type_in_the_query_string_is_not_a_form_parameter() {
    let (a, r) = appliance();
    let auth = basic(&a.client_id(), &a.client_secret());
    let answer = send(
        &r,
        post_form(
            "/oauth2/token?grant_type=client_credentials",
            Some(&auth),
            "",
        ),
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()["error"].clone()),
        (400, "invalid_request".into())
    );
    assert_eq!(a.live_tokens(), 0);
}

#[tokio::test]
async fn token_calls_are_recorded_with_connection_close_and_without_secrets() {
    let (a, r) = appliance();
    let auth = basic(&a.client_id(), &a.client_secret());
    let closed = send(
        &r,
        closing(post_form(
            "/oauth2/token",
            Some(&auth),
            "grant_type=client_credentials",
        )),
    )
    .await;
    assert_eq!(closed.status, 200);
    let refused = send(
        &r,
        post_form(
            "/oauth2/token",
            Some(&basic(&a.client_id(), "wrong")),
            "grant_type=client_credentials&client_secret=leak",
        ),
    )
    .await;
    assert_eq!(refused.status, 401);
    let calls = a.token_calls();
    let seen: Vec<(u16, bool)> = calls
        .iter()
        .map(|c| (c.status, c.connection_close))
        .collect();
    assert_eq!(seen, vec![(200, true), (401, false)]);
    assert_eq!(calls[0].param("grant_type"), Some("client_credentials"));
    assert_eq!(calls[1].param("client_secret"), None);
    let dump = format!("{calls:?}");
    assert!(!dump.contains(&a.client_secret()) && !dump.contains("leak"));
    assert!(a.api_calls().is_empty(), "token calls are not API calls");
}

#[tokio::test]
async fn api_calls_record_whether_they_asked_to_close_the_connection() {
    let (a, r) = appliance();
    let auth = bearer(&a, &r).await;
    send(
        &r,
        closing(get("/api/command?action=get_api_info", Some(&auth))),
    )
    .await;
    send(&r, get("/api/command?action=get_api_info", Some(&auth))).await;
    send(
        &r,
        closing(post_form(
            "/api/reporting",
            Some(&auth),
            "generate_report=SupportSession&lsid=x",
        )),
    )
    .await;
    let mut keep_alive = get("/api/reporting?generate_report=SupportSession&lsid=x", None);
    keep_alive.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("keep-alive"),
    );
    send(&r, keep_alive).await;
    let seen: Vec<(String, bool)> = a
        .api_calls()
        .iter()
        .map(|c| (c.path.clone(), c.connection_close))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("/api/command".to_string(), true),
            ("/api/command".to_string(), false),
            ("/api/reporting".to_string(), true),
            ("/api/reporting".to_string(), false),
        ]
    );
}
