//! Configurations through the admin router (no network): every route refuses missing auth and
//! bad input with a clear answer, changes apply to the running middleware at once, and no
//! secret ever comes back.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

use super::tests::*;
use crate::config::ApplianceAuth;

const NEW_SECRET: &str = "new-client-s3cret-777";
const NEW_TOKEN: &str = "new-zd-t0ken-888";

fn new_config() -> Value {
    json!({
        "name": "Branch",
        "appliance_id": "branch_2",
        "beyondtrust": {"host": "branch.example.com", "client_id": "branch-id", "client_secret": NEW_SECRET,
                        "polling_event_types": ["support_conference_end"], "polling_interval_secs": 30},
        "zendesk": {"url": "https://branch.zendesk.com", "username": "api@branch.example", "token": NEW_TOKEN,
                    "tags": ["remote_support"]}
    })
}

fn api(method: &str, path: &str, body: Option<&Value>) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, basic(PASSWORD))
        .header(header::CONTENT_TYPE, "application/json");
    b.body(body.map_or(Body::empty(), |v| Body::from(v.to_string())))
        .unwrap()
}

fn no_secret(text: &str) {
    assert_no_secrets(text);
    for s in [NEW_SECRET, NEW_TOKEN] {
        assert!(!text.contains(s), "secret {s} shown:\n{text}");
    }
}

fn secret_of(a: &Admin, name: &str) -> String {
    match &a
        .shared
        .runtime(name)
        .expect("runtime")
        .cfg
        .beyondtrust
        .auth
    {
        ApplianceAuth::OAuth { client_secret, .. } => client_secret.expose().to_string(),
        ApplianceAuth::Legacy { password, .. } => password.expose().to_string(),
    }
}

#[tokio::test]
async fn every_configuration_route_needs_authentication() {
    let a = super::tests::admin().await;
    let body = new_config().to_string();
    for (method, path) in [
        ("GET", "/api/configurations"),
        ("POST", "/api/configurations"),
        ("GET", "/api/configurations/Lab"),
        ("PUT", "/api/configurations/Lab"),
        ("DELETE", "/api/configurations/Lab"),
        ("POST", "/api/configurations/Lab/test"),
        ("GET", "/api/templates"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        let (status, headers, _) = send(&a, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(headers.get(header::WWW_AUTHENTICATE).is_some());
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST)
            .header(header::AUTHORIZATION, basic("wrong"))
            .body(Body::empty())
            .unwrap();
        // Each from its own address, so the per-address slowdown stays at its first step.
        let from: std::net::SocketAddr = format!("192.0.2.{}:4000", path.len() + method.len())
            .parse()
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(from));
        assert_eq!(
            send(&a, req).await.0,
            StatusCode::UNAUTHORIZED,
            "{method} {path} wrong password"
        );
    }
    for path in [
        "/configurations/new",
        "/configurations/Lab/edit",
        "/configurations/Lab/copy",
        "/configurations/Lab/delete",
        "/templates",
    ] {
        let (status, headers, _) = send(&a, get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(headers[header::LOCATION], "/login");
    }
    for path in [
        "/configurations",
        "/configurations/Lab",
        "/configurations/Lab/enable",
        "/configurations/Lab/disable",
        "/configurations/Lab/delete",
    ] {
        let (status, _, _) = send(
            &a,
            post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("name=x"))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // Nothing changed.
    assert_eq!(a.shared.config_store().load().await.unwrap().1.len(), 2);
    assert!(a.shared.runtime("Lab").is_some());
}

#[tokio::test]
async fn bad_input_is_answered_per_field_and_changes_nothing() {
    let a = super::tests::admin().await;
    let generation = a.shared.runtimes().generation;
    let raw = Request::post("/api/configurations")
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, basic(PASSWORD))
        .body(Body::from("name=Branch"))
        .unwrap();
    let (status, _, body) = send(&a, raw).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not JSON"), "{body}");
    let (status, _, body) = send(&a, api("POST", "/api/configurations", Some(&json!([1])))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["errors"][""],
        "expected a JSON object"
    );

    let (status, _, body) = send(
        &a,
        api(
            "POST",
            "/api/configurations",
            Some(&json!({"name": "", "beyondtrust": {"host": "https://x/"}, "zendesk": {"url": "x", "username": "u", "tokn": "t"}})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let e = &serde_json::from_str::<Value>(&body).unwrap()["errors"];
    assert_eq!(e["name"], "must not be empty");
    assert_eq!(e["appliance_id"], "is required");
    assert_eq!(e["zendesk.tokn"], "unknown field");

    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"beyondtrust": {"host": "https://x.example.com"}}),
            "beyondtrust.host",
            "without scheme",
        ),
        (
            json!({"zendesk": {"url": "not a url"}}),
            "zendesk.url",
            "https://SUBDOMAIN.zendesk.com",
        ),
        (
            json!({"appliance_id": "bad id"}),
            "appliance_id",
            "letters, digits",
        ),
        (
            json!({"appliance_id": "DEFAULT"}),
            "appliance_id",
            "used by the enabled configuration",
        ),
        (json!({"name": "production eu"}), "name", "exists"),
        (
            json!({"beyondtrust": {"polling_interval_secs": 0}}),
            "beyondtrust.polling_interval_secs",
            "at least 1",
        ),
        (
            json!({"beyondtrust": {"retry_attempt_limit": "five"}}),
            "beyondtrust.retry_attempt_limit",
            "invalid type",
        ),
        (
            json!({"beyondtrust": {"use_non_tls": true}}),
            "beyondtrust.use_non_tls",
            "OAuth cannot be used over plain HTTP",
        ),
        (
            json!({"beyondtrust": {"client_secret": null}}),
            "beyondtrust.client_secret",
            "OAuth needs client_secret",
        ),
        (
            json!({"zendesk": {"token": ""}}),
            "zendesk.token",
            "needs token",
        ),
        (
            json!({"zendesk": {"update_rate_per_minute": 0}}),
            "zendesk.update_rate_per_minute",
            "at least 1",
        ),
        (
            json!({"zendesk": {"duration_field_unit": "hours"}}),
            "zendesk.duration_field_unit",
            "unknown variant",
        ),
        (
            json!({"beyondtrust": {"polling_event_types": ["support_conference_customer_exit_survey_completed"]}}),
            "beyondtrust.polling_event_types",
            "unknown event type",
        ),
        (
            json!({"copy_from": "Nope"}),
            "copy_from",
            "no configuration named",
        ),
    ];
    for (patch, field, message) in cases {
        let mut doc = new_config();
        for (k, v) in patch.as_object().unwrap() {
            match v {
                Value::Object(inner) => {
                    for (ik, iv) in inner {
                        doc[k][ik] = iv.clone();
                    }
                }
                v => doc[k] = v.clone(),
            }
        }
        let (status, _, body) = send(&a, api("POST", "/api/configurations", Some(&doc))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{patch}: {body}");
        no_secret(&body);
        let v: Value = serde_json::from_str(&body).unwrap();
        let got = v["errors"][field]
            .as_str()
            .unwrap_or_else(|| panic!("{patch}: no error for {field}: {body}"));
        assert!(got.contains(message), "{patch}: {field}: {got}");
    }

    let (status, _, body) = send(
        &a,
        api("PUT", "/api/configurations/Nope", Some(&new_config())),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, _) = send(&a, api("DELETE", "/api/configurations/Nope", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send(&a, api("GET", "/api/configurations/Nope", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut renamed = new_config();
    renamed["name"] = json!("Renamed");
    let (status, _, body) = send(&a, api("PUT", "/api/configurations/Lab", Some(&renamed))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("cannot be changed"), "{body}");

    assert_eq!(
        a.shared.runtimes().generation,
        generation,
        "nothing was stored"
    );
    assert_eq!(a.shared.config_store().load().await.unwrap().1.len(), 2);
}

#[tokio::test]
async fn changes_apply_at_once_and_secrets_are_write_only() {
    let a = super::tests::admin().await;
    assert!(a.shared.configuration_for_appliance("branch_2").is_err());
    let (status, _, body) = send(&a, api("POST", "/api/configurations", Some(&new_config()))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    no_secret(&body);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["name"], "Branch");
    assert_eq!(v["valid"], true);
    assert_eq!(v["settings"]["beyondtrust"]["client_secret_set"], true);
    assert_eq!(v["settings"]["zendesk"]["token_set"], true);
    assert_eq!(
        v["settings"]["beyondtrust"]["locale"], "en-us",
        "defaults spelled out"
    );
    assert!(v["settings"]["beyondtrust"].get("client_secret").is_none());
    // Ingest sees it without a restart.
    let rt = a
        .shared
        .configuration_for_appliance("BRANCH_2")
        .expect("live");
    assert_eq!(rt.cfg.name, "Branch");
    assert_eq!(secret_of(&a, "Branch"), NEW_SECRET);

    // Edit what GET returned (no secrets in it): the secrets are kept.
    let (_, _, body) = send(&a, api("GET", "/api/configurations/Branch", None)).await;
    no_secret(&body);
    let mut settings = serde_json::from_str::<Value>(&body).unwrap()["settings"].clone();
    settings["beyondtrust"]["host"] = json!("branch2.example.com");
    settings["beyondtrust"]["client_secret"] = json!("");
    let (status, _, body) = send(
        &a,
        api("PUT", "/api/configurations/Branch", Some(&settings)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    no_secret(&body);
    assert_eq!(
        a.shared.runtime("Branch").unwrap().cfg.beyondtrust.host,
        "branch2.example.com"
    );
    assert_eq!(secret_of(&a, "Branch"), NEW_SECRET);
    assert_eq!(
        a.shared
            .runtime("Branch")
            .unwrap()
            .cfg
            .zendesk
            .token
            .expose(),
        NEW_TOKEN
    );
    // A new secret replaces the old one.
    settings["beyondtrust"]["client_secret"] = json!("rotated-s3cret");
    let (status, _, _) = send(
        &a,
        api("PUT", "/api/configurations/Branch", Some(&settings)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(secret_of(&a, "Branch"), "rotated-s3cret");

    // Disable: its events are refused; enable again through the form route.
    settings["disabled"] = json!(true);
    let (status, _, _) = send(
        &a,
        api("PUT", "/api/configurations/Branch", Some(&settings)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let refused = a
        .shared
        .configuration_for_appliance("branch_2")
        .unwrap_err();
    assert!(refused.contains("disabled"), "{refused}");
    let cookie = login(&a).await;
    let (status, _, _) = send(
        &a,
        post("/configurations/Branch/enable")
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(a.shared.configuration_for_appliance("branch_2").is_ok());

    // The list and the dashboard show it, without secrets.
    let (_, _, list) = send(&a, api("GET", "/api/configurations", None)).await;
    no_secret(&list);
    assert_eq!(
        serde_json::from_str::<Value>(&list)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (_, _, page) = send(
        &a,
        get("/")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    no_secret(&page);
    assert!(page.contains("branch2.example.com") && page.contains("/ERSPost?appliance=branch_2"));
    let (_, _, form) = send(
        &a,
        get("/configurations/Branch/edit")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    no_secret(&form);
    assert!(form.contains("set — leave empty to keep"), "{form}");

    // Delete: gone from ingest at once.
    let (status, _, _) = send(&a, api("DELETE", "/api/configurations/Branch", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(a.shared.runtime("Branch").is_none());
    assert!(a.shared.configuration_for_appliance("branch_2").is_err());
}

#[tokio::test]
async fn the_form_adds_copies_and_names_each_bad_field() {
    let a = super::tests::admin().await;
    let cookie = login(&a).await;
    let form = |body: &str, path: &str| {
        post(path)
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let (status, _, page) = send(
        &a,
        form(
            &format!("name=Form&appliance_id=form_1&beyondtrust.host=&auth=oauth&beyondtrust.client_id=id&beyondtrust.client_secret={NEW_SECRET}\
             &beyondtrust.polling_interval_secs=abc&beyondtrust.retry_attempt_limit=5&zendesk.url=https%3A%2F%2Fform.zendesk.com\
             &zendesk.username=u%40x&zendesk.token={NEW_TOKEN}&zendesk.update_rate_per_minute=100"),
            "/configurations",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    no_secret(&page);
    assert!(page.contains("must be a whole number"), "{page}");
    let (status, _, page) = send(
        &a,
        form(
            &format!("name=Form&appliance_id=form_1&beyondtrust.host=&auth=oauth&beyondtrust.client_id=id&beyondtrust.client_secret={NEW_SECRET}\
             &beyondtrust.polling_interval_secs=60&beyondtrust.retry_attempt_limit=5&zendesk.url=https%3A%2F%2Fform.zendesk.com\
             &zendesk.username=u%40x&zendesk.token={NEW_TOKEN}&zendesk.update_rate_per_minute=100"),
            "/configurations",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    no_secret(&page);
    assert!(
        page.contains("data-field=\"beyondtrust.host\"") && page.contains("must not be empty"),
        "{page}"
    );
    let good = format!(
        "name=Form&appliance_id=form_1&disabled=true&beyondtrust.host=form.example.com&auth=oauth&beyondtrust.client_id=id\
         &beyondtrust.client_secret={NEW_SECRET}&beyondtrust.outbound_event_types=support_conference_end\
         &beyondtrust.polling_interval_secs=60&beyondtrust.retry_attempt_limit=3&zendesk.url=https%3A%2F%2Fform.zendesk.com\
         &zendesk.username=u%40x&zendesk.token={NEW_TOKEN}&zendesk.tags=a%2C+b&zendesk.update_rate_per_minute=100"
    );
    let (status, headers, _) = send(&a, form(&good, "/configurations")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/?saved="));
    let location = headers[header::LOCATION].to_str().unwrap().to_string();
    let (_, _, dash) = send(
        &a,
        get(&location)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        dash.contains("Saved Form; it is in effect now (no restart needed)"),
        "{dash}"
    );
    let rt = a.shared.runtime("Form").expect("added");
    assert!(rt.cfg.disabled);
    assert_eq!(
        rt.cfg.beyondtrust.outbound_event_types,
        ["support_conference_end"]
    );
    assert_eq!(rt.cfg.beyondtrust.retry_attempt_limit, Some(3));
    assert_eq!(rt.cfg.zendesk.tags, ["a", "b"]);
    // Copy: the form leaves the secrets empty; the copy still gets them.
    let (_, _, copy) = send(
        &a,
        get("/configurations/Form/copy")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    no_secret(&copy);
    assert!(
        copy.contains("value=\"Form copy\"") && copy.contains("name=\"copy_from\" value=\"Form\""),
        "{copy}"
    );
    let copied = good
        .replace("name=Form", "name=Form2&copy_from=Form")
        .replace(
            &format!("&beyondtrust.client_secret={NEW_SECRET}"),
            "&beyondtrust.client_secret=",
        )
        .replace(&format!("&zendesk.token={NEW_TOKEN}"), "&zendesk.token=");
    let (status, _, page) = send(&a, form(&copied, "/configurations")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(secret_of(&a, "Form2"), NEW_SECRET);
    assert_eq!(
        a.shared
            .runtime("Form2")
            .unwrap()
            .cfg
            .zendesk
            .token
            .expose(),
        NEW_TOKEN
    );
    // Delete asks first, then deletes.
    let (status, _, confirm) = send(
        &a,
        get("/configurations/Form2/delete")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Delete configuration Form2?"));
    let (status, _, _) = send(&a, form("", "/configurations/Form2/delete")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(a.shared.runtime("Form2").is_none());
    // Cross-origin form posts are refused.
    let (status, _, _) = send(
        &a,
        post("/configurations/Form/delete")
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(a.shared.runtime("Form").is_some());
}

#[tokio::test]
async fn bad_paths_get_html_pages() {
    let a = super::tests::admin().await;
    let cookie = login(&a).await;
    for path in [
        "/events/abc",
        "/events/999999",
        "/no/such/page",
        "/configurations/Nope/edit",
    ] {
        let (status, headers, body) = send(
            &a,
            get(path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(
            body.contains("<html") && body.contains("href=\"/\""),
            "{path}: {body}"
        );
    }
    let (_, _, body) = send(
        &a,
        get("/events/abc")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(body.contains("not an event id"), "{body}");
}

#[tokio::test]
async fn a_foreign_host_name_is_refused_before_authentication() {
    let a = super::tests::admin().await;
    for host in ["rebind.attacker.test", "evil.example:53231"] {
        let req = Request::get("/api/configurations")
            .header(header::HOST, host)
            .header(header::AUTHORIZATION, basic(PASSWORD))
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(&a, req).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(body.contains("answers only to its own address"), "{body}");
        no_secret(&body);
    }
    for host in ["localhost:53231", "127.0.0.1:53231", "[::1]:53231"] {
        let req = Request::get("/api/configurations")
            .header(header::HOST, host)
            .header(header::AUTHORIZATION, basic(PASSWORD))
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&a, req).await.0, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn triage_shows_true_attempts_the_active_filter_and_finds_tickets_and_sessions() {
    let a = super::tests::admin().await;
    let failed = event(&a, "lsid-triage-1", Some("Zendesk 404 RecordNotFound")).await;
    // Retry resets the retry counter; the recorded attempt stays and is what the admin counts.
    assert!(a.shared.store.requeue(failed).await.unwrap());
    let claimed = a
        .shared
        .store
        .claim_due(std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.attempts, 0);
    assert!(a
        .shared
        .store
        .mark_failed(&claimed, "Zendesk 404 again")
        .await
        .unwrap());
    let _other = event(&a, "lsid-triage-2", None).await;
    let cookie = login(&a).await;
    let page = |path: &str| {
        get(path)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (_, _, json) = send(&a, api("GET", &format!("/api/events/{failed}"), None)).await;
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["attempt_log"].as_array().unwrap().len(), 2);
    assert_eq!(v["attempts"], 2, "the count is the log's length: {json}");

    let (_, _, html) = send(&a, page("/events?status=failed")).await;
    assert!(
        html.contains("Events with status <b>failed</b>") && html.contains("id=\"clear-filter\""),
        "{html}"
    );
    assert!(
        html.contains("class=\"count alert active\" id=\"count-failed\""),
        "failed count highlighted and active: {html}"
    );
    assert!(html.contains("<td>failed</td><td>2</td>"), "{html}");
    let (_, _, dash) = send(&a, page("/")).await;
    assert!(
        dash.contains("class=\"count alert\" id=\"count-failed\""),
        "{dash}"
    );

    let (_, _, html) = send(&a, page("/events?q=lsid-triage-2")).await;
    assert!(
        html.contains("lsid-triage-2") && !html.contains("lsid-triage-1"),
        "{html}"
    );
    assert!(html.contains("(1 found)"), "{html}");
    // By ticket number: the outbound external_key field (no ticket resolved yet) ...
    let stored = a.shared.store.event(failed).await.unwrap().unwrap();
    assert!(stored.ticket_id.is_none());
    let keyed = crate::store::NewEvent {
        configuration: "Production EU".into(),
        appliance_id: "default".into(),
        event_type: crate::config::SESSION_END.into(),
        lsid: "lsid-keyed".into(),
        event_timestamp: "1".into(),
        source: crate::store::Source::Outbound,
        fields: vec![("external_key".into(), "123".into())],
        status: crate::store::Status::Skipped,
        note: None,
    };
    a.shared.store.insert_event(&keyed).await.unwrap();
    let (_, _, json) = send(&a, api("GET", "/api/events?q=%23123", None)).await;
    let found = serde_json::from_str::<Value>(&json).unwrap()["events"].clone();
    assert_eq!(found.as_array().unwrap().len(), 1, "{json}");
    assert_eq!(found[0]["lsid"], "lsid-keyed");
    // ... and the ticket a processed event went to, linked to the configuration's Zendesk.
    a.shared.store.requeue(failed).await.unwrap();
    let claimed = a
        .shared
        .store
        .claim_due(std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert!(a.shared.store.mark_done(&claimed, Some(456)).await.unwrap());
    let (_, _, html) = send(&a, page("/events?q=456")).await;
    assert!(
        html.contains(&claimed.lsid)
            && html.contains("href=\"https://acme.zendesk.com/agent/tickets/456\""),
        "{html}"
    );
    let (_, _, html) = send(&a, page("/events?q=nothing-like-this")).await;
    assert!(
        html.contains("(0 found)") && html.contains("No events."),
        "{html}"
    );
    let (status, _, html) = send(&a, page("/events?status=bogus")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Unknown status") && html.contains("<html"),
        "{html}"
    );
}

#[test]
fn times_show_the_local_zone() {
    let plus_one = time::UtcOffset::from_hms(1, 0, 0).unwrap();
    assert_eq!(
        super::view::format_ms_at(1_700_000_000_123, plus_one),
        "2023-11-14 23:13:20 UTC+01:00"
    );
    let minus = time::UtcOffset::from_hms(-5, -30, 0).unwrap();
    assert_eq!(
        super::view::format_ms_at(1_700_000_000_123, minus),
        "2023-11-14 16:43:20 UTC-05:30"
    );
    assert_eq!(
        super::view::format_ms_at(1_700_000_000_123, time::UtcOffset::UTC),
        "2023-11-14 22:13:20 UTC"
    );
}

#[tokio::test]
async fn templates_show_their_source_and_a_preview_of_the_sample_session() {
    let a = super::tests::admin().await;
    let cookie = login(&a).await;
    let page = |path: &str| {
        get(path)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, html) = send(&a, page("/templates")).await;
    assert_eq!(status, StatusCode::OK);
    for file in ["session.hbs", "customer-survey.hbs", "rep-survey.hbs"] {
        assert!(
            html.contains(&format!("data-file=\"{file}\"")),
            "{file}: {html}"
        );
    }
    assert_eq!(
        html.matches("<dd class=\"active-source\">built-in</dd>")
            .count(),
        3
    );
    // The sample session, rendered by the real templates.
    assert!(
        html.contains("c69a8e10bea9428f816cfababe9815fe")
            && html.contains("<div class=\"preview\">")
    );
    let (_, _, json) = send(&a, api("GET", "/api/templates", None)).await;
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["templates"].as_array().unwrap().len(), 3);
    assert!(
        v["templates"][1]["html"]
            .as_str()
            .unwrap()
            .contains("survey"),
        "{json}"
    );

    let (status, _, html) = send(&a, page("/templates?event=abc")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("is not an event id"), "{html}");
    let (status, _, json) = send(&a, api("GET", "/api/templates?event=424242", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(json.contains("there is no event 424242"), "{json}");
    // An event whose appliance cannot be reached: the reason, in words.
    let id = event(&a, "lsid-unreachable", None).await;
    let (status, _, html) = send(&a, page(&format!("/templates?event={id}"))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{html}");
    assert!(html.contains("could not be fetched"), "{html}");
    no_secret(&html);
}

#[tokio::test]
async fn an_override_file_is_named_as_the_active_template_and_previewed() {
    let dir = std::env::temp_dir().join(format!(
        "mw-tpl-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("session.hbs"), "<p>OVERRIDE for {{lsid}}</p>").unwrap();
    let db = crate::testing::temp_database_url("tpl");
    let text = format!(
        "[server]\ndatabase_url = \"{db}\"\ntemplates_dir = \"{}\"\n",
        dir.display()
    );
    let config = crate::config::parse(&text, "t.toml", &|_| None).unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let shared = crate::app::Shared::build(config, crate::testing::fast_tuning(), rx)
        .await
        .unwrap();
    let list = super::templates::previews(&shared, None).await.unwrap();
    assert_eq!(
        list[0].active,
        dir.join("session.hbs").display().to_string()
    );
    assert_eq!(
        list[0].html.as_deref(),
        Some("<p>OVERRIDE for c69a8e10bea9428f816cfababe9815fe</p>")
    );
    assert_eq!(list[1].active, "built-in");
    shared.store.close().await;
    crate::testing::remove_sqlite_files(&db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn refusals_are_pages_with_a_hint_for_people_and_text_for_scripts() {
    let a = super::tests::admin().await;
    let id = event(&a, "lsid-refused", Some("boom")).await;
    let (status, headers, body) = send(
        &a,
        post(&format!("/events/{id}/retry"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        body.contains("session may have expired")
            && body.contains("MIDDLEWARE_ADMIN_PASSWORD")
            && body.contains("href=\"/login\""),
        "{body}"
    );
    let cookie = login(&a).await;
    let (status, _, body) = send(
        &a,
        post(&format!("/events/{id}/retry"))
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("<html") && body.contains("admin&#39;s own pages"),
        "{body}"
    );
    let (status, _, body) = send(
        &a,
        Request::get("/api/status")
            .header(header::HOST, HOST)
            .header(header::AUTHORIZATION, basic("nope"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        !body.contains("<html") && body.contains("MIDDLEWARE_ADMIN_PASSWORD"),
        "{body}"
    );
    no_secret(&body);
    let (status, _, body) = send(
        &a,
        post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("password=nope"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body.contains("Wrong password.") && body.contains("admin-password file"),
        "{body}"
    );
}

#[tokio::test]
async fn the_form_saves_ticket_creation_and_survey_rules_and_shows_them_on_edit() {
    let a = super::tests::admin().await;
    let cookie = login(&a).await;
    let form = |body: &str| {
        post("/configurations")
            .header(header::COOKIE, &cookie)
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let base = format!(
        "name=Tix&appliance_id=tix_1&beyondtrust.host=tix.example.com&auth=oauth&beyondtrust.client_id=id\
         &beyondtrust.client_secret={NEW_SECRET}&beyondtrust.polling_interval_secs=60&zendesk.url=https%3A%2F%2Ftix.zendesk.com\
         &zendesk.username=u%40x&zendesk.token={NEW_TOKEN}&zendesk.update_rate_per_minute=100\
         &zendesk.unassociated_sessions=create_ticket&zendesk.default_requester_email=rs%40tix.example\
         &zendesk.requester_email_attribute=&zendesk.new_ticket_group_id=77&zendesk.new_ticket_brand_id=\
         &zendesk.new_ticket_tags=remote_support"
    );
    let (status, _, page) = send(&a, form(&format!("{base}&zendesk.survey_rules=%5B%7B"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("data-field=\"zendesk.survey_rules\"") && page.contains("not valid JSON"),
        "{page}"
    );
    assert!(a.shared.runtime("Tix").is_none());
    let rules = r#"[{"question": "Was your issue resolved?", "answer": "Yes", "status": "solved", "tags": ["fixed"]}]"#;
    let rules: String = url::form_urlencoded::byte_serialize(rules.as_bytes()).collect();
    let (status, _, page) = send(&a, form(&format!("{base}&zendesk.survey_rules={rules}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let rt = a.shared.runtime("Tix").expect("added");
    let t = &rt.cfg.zendesk.tickets;
    assert_eq!(
        t.unassociated_sessions,
        crate::config::UnassociatedSessions::CreateTicket
    );
    assert_eq!(t.default_requester_email.as_deref(), Some("rs@tix.example"));
    assert_eq!(t.requester_email_attribute, "email", "empty: the default");
    assert_eq!(
        (t.new_ticket_group_id, t.new_ticket_brand_id),
        (Some(77), None)
    );
    assert_eq!(t.new_ticket_tags, ["remote_support"]);
    assert_eq!(t.survey_rules.len(), 1);
    assert_eq!(t.survey_rules[0].status.as_deref(), Some("solved"));
    let (_, _, edit) = send(
        &a,
        get("/configurations/Tix/edit")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        edit.contains("<option value=\"create_ticket\" selected>")
            && edit.contains("value=\"rs@tix.example\"")
            && edit.contains("Was your issue resolved?"),
        "{edit}"
    );
}
