//! Router tests of the Zendesk simulator (no port): one test per API rule.

use std::time::Duration;

use axum::Router;
use serde_json::json;

use super::Zendesk;
use crate::test_support::{basic, get, json_request, send, Answer};
use crate::SandboxOptions;

fn zendesk_with(per_minute: u32) -> (Zendesk, Router, String) {
    let z = Zendesk::for_tests(&SandboxOptions {
        zendesk_rate_limit_per_minute: per_minute,
        ..SandboxOptions::default()
    });
    let auth = basic(&format!("{}/token", z.email()), &z.api_token());
    let router = z.router();
    (z, router, auth)
}

fn zendesk() -> (Zendesk, Router, String) {
    zendesk_with(100)
}

async fn put(r: &Router, auth: &str, uri: &str, body: serde_json::Value) -> Answer {
    send(r, json_request("PUT", uri, Some(auth), &body.to_string())).await
}

#[tokio::test]
async fn me_identifies_the_agent() {
    let (z, r, auth) = zendesk();
    let answer = send(&r, get("/api/v2/users/me.json", Some(&auth))).await;
    assert_eq!(answer.status, 200);
    let user = &answer.json()["user"];
    assert_eq!(
        (user["id"].as_u64(), user["role"].as_str()),
        (Some(z.agent_id()), Some("agent"))
    );
    assert_eq!(user["email"], z.email());
}

#[tokio::test]
async fn me_answers_anonymous_callers_without_an_id() {
    let (_z, r, _auth) = zendesk();
    let answer = send(&r, get("/api/v2/users/me.json", None)).await;
    assert_eq!(answer.status, 200);
    assert!(answer.json()["user"]["id"].is_null());
    assert_eq!(answer.json()["user"]["role"], "end-user");
}

#[tokio::test]
async fn bad_credentials_are_401_couldnt_authenticate_you() {
    let (z, r, _auth) = zendesk();
    for auth in [
        basic(&format!("{}/token", z.email()), "wrong"),
        basic(&z.email(), &z.api_token()),
        "Bearer x".to_string(),
    ] {
        for uri in ["/api/v2/users/me.json", "/api/v2/tickets/1.json"] {
            let answer = send(&r, get(uri, Some(&auth))).await;
            assert_eq!(answer.status, 401, "{uri}");
            assert_eq!(answer.json(), json!({"error": "Couldn't authenticate you"}));
        }
    }
    assert_eq!(
        send(&r, get("/api/v2/tickets/1.json", None)).await.status,
        401
    );
    assert!(z.requests().is_empty());
}

#[tokio::test]
async fn non_agents_get_403() {
    let (z, r, _auth) = zendesk();
    let id = z.create_ticket("x");
    let auth = basic(
        &format!("{}/token", z.end_user_email()),
        &z.end_user_token(),
    );
    assert_eq!(
        send(&r, get("/api/v2/users/me.json", Some(&auth)))
            .await
            .json()["user"]["role"],
        "end-user"
    );
    let answer = send(&r, get(&format!("/api/v2/tickets/{id}.json"), Some(&auth))).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json(),
        json!({
            "error": "Forbidden",
            "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."
        })
    );
    let answer = put(
        &r,
        &auth,
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"comment": {"body": "x"}}}),
    )
    .await;
    assert_eq!(answer.status, 403);
    assert!(z.comments(id).is_empty());
}

#[tokio::test]
async fn unknown_tickets_are_404_record_not_found() {
    let (_z, r, auth) = zendesk();
    let expected = json!({"error": "RecordNotFound", "description": "Not found"});
    let answer = send(&r, get("/api/v2/tickets/999.json", Some(&auth))).await;
    assert_eq!((answer.status, answer.json()), (404, expected.clone()));
    let answer = put(
        &r,
        &auth,
        "/api/v2/tickets/999.json",
        json!({"ticket": {"comment": {"body": "x"}}}),
    )
    .await;
    assert_eq!((answer.status, answer.json()), (404, expected.clone()));
    let answer = send(&r, get("/api/v2/tickets/999/comments.json", Some(&auth))).await;
    assert_eq!((answer.status, answer.json()), (404, expected));
}

#[tokio::test]
async fn get_ticket_answers_the_ticket() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Printer");
    let answer = send(&r, get(&format!("/api/v2/tickets/{id}.json"), Some(&auth))).await;
    assert_eq!(answer.status, 200);
    let ticket = &answer.json()["ticket"];
    assert_eq!(
        (ticket["id"].as_u64(), ticket["subject"].as_str()),
        (Some(id), Some("Printer"))
    );
    assert_eq!(
        ticket["url"],
        format!("{}/api/v2/tickets/{id}.json", z.base_url())
    );
}

#[tokio::test]
async fn private_html_comment_is_appended_with_ticket_and_audit() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Printer");
    let html = "<p>Session <b>report</b> &amp; notes</p>";
    let answer = put(
        &r,
        &auth,
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"comment": {"html_body": html, "public": false}}}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json = answer.json();
    assert_eq!(json["ticket"]["id"].as_u64(), Some(id));
    let event = &json["audit"]["events"][0];
    assert_eq!(
        (event["type"].as_str(), event["public"].as_bool()),
        (Some("Comment"), Some(false))
    );
    let comments = z.comments(id);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].html_body, html);
    assert_eq!(comments[0].body, "Session report & notes");
    assert!(!comments[0].public);
    assert_eq!(comments[0].author_id, z.agent_id());
}

#[tokio::test]
async fn plain_comment_defaults_to_public_and_gets_html() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Printer");
    let answer = put(
        &r,
        &auth,
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"comment": {"body": "a < b"}}}),
    )
    .await;
    assert_eq!(answer.status, 200);
    let c = &z.comments(id)[0];
    assert!(c.public);
    assert_eq!(c.body, "a < b");
    assert!(c.html_body.contains("a &lt; b"));
}

#[tokio::test]
async fn blank_comment_is_422_record_invalid() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Printer");
    for comment in [
        json!({"body": "  "}),
        json!({"html_body": "<p> </p>"}),
        json!({"public": false}),
    ] {
        let answer = put(
            &r,
            &auth,
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"comment": comment}}),
        )
        .await;
        assert_eq!(answer.status, 422, "{comment}");
        assert_eq!(answer.json()["error"], "RecordInvalid");
        assert!(answer.json()["details"].is_object());
    }
    assert!(z.comments(id).is_empty());
}

#[tokio::test]
async fn a_ticket_holds_at_most_max_comments() {
    let (z, r, auth) = zendesk();
    assert_eq!(super::MAX_COMMENTS, 5000);
    assert_eq!(
        z.state().max_comments,
        5000,
        "the default is Zendesk's limit"
    );
    z.set_max_comments(2);
    let id = z.create_ticket("Printer");
    let uri = format!("/api/v2/tickets/{id}.json");
    for _ in 0..2 {
        assert_eq!(
            put(
                &r,
                &auth,
                &uri,
                json!({"ticket": {"comment": {"body": "x"}}})
            )
            .await
            .status,
            200
        );
    }
    let answer = put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"comment": {"body": "x"}}}),
    )
    .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.json()["error"], "RecordInvalid");
    assert_eq!(z.comments(id).len(), 2);
}

#[tokio::test]
async fn ticket_tags_replace_and_tags_endpoint_adds() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Printer");
    put(
        &r,
        &auth,
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"tags": ["a", "b"]}}),
    )
    .await;
    put(
        &r,
        &auth,
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"tags": ["c"]}}),
    )
    .await;
    assert_eq!(z.ticket(id).unwrap().tags, vec!["c"]);
    let answer = put(
        &r,
        &auth,
        &format!("/api/v2/tickets/{id}/tags.json"),
        json!({"tags": ["d", "c"]}),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["tags"], json!(["c", "d"]));
    assert_eq!(z.ticket(id).unwrap().tags, vec!["c", "d"]);
}

#[tokio::test]
async fn custom_fields_are_kept_and_merged_by_id() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Printer");
    let uri = format!("/api/v2/tickets/{id}.json");
    put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"custom_fields": [{"id": 1, "value": "x"}, {"id": 2, "value": 5}]}}),
    )
    .await;
    let answer = put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"custom_fields": [{"id": 1, "value": "y"}], "comment": {"body": "c"}}}),
    )
    .await;
    assert_eq!(
        answer.json()["ticket"]["custom_fields"],
        json!([{"id": 1, "value": "y"}, {"id": 2, "value": 5}])
    );
    assert_eq!(z.ticket(id).unwrap().custom_fields.len(), 2);
}

#[tokio::test]
async fn comments_endpoint_lists_comments_oldest_first() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Printer");
    for body in ["one", "two"] {
        put(
            &r,
            &auth,
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"comment": {"body": body, "public": false}}}),
        )
        .await;
    }
    let answer = send(
        &r,
        get(&format!("/api/v2/tickets/{id}/comments.json"), Some(&auth)),
    )
    .await;
    assert_eq!(answer.status, 200);
    let json = answer.json();
    assert_eq!(json["count"], 2);
    assert_eq!(json["comments"][0]["body"], "one");
    assert_eq!(json["comments"][1]["public"], false);
    assert!(json["next_page"].is_null());
}

#[tokio::test]
async fn post_tickets_creates_with_201_and_requires_a_comment() {
    let (z, r, auth) = zendesk();
    let answer = send(
        &r,
        json_request(
            "POST",
            "/api/v2/tickets.json",
            Some(&auth),
            &json!({"ticket": {"subject": "New", "comment": {"body": "Help"}, "tags": ["x"]}})
                .to_string(),
        ),
    )
    .await;
    assert_eq!(answer.status, 201);
    let id = answer.json()["ticket"]["id"].as_u64().unwrap();
    assert_eq!(z.ticket(id).unwrap().subject, "New");
    assert_eq!(z.comments(id)[0].body, "Help");
    let answer = send(
        &r,
        json_request(
            "POST",
            "/api/v2/tickets.json",
            Some(&auth),
            &json!({"ticket": {"subject": "No comment"}}).to_string(),
        ),
    )
    .await;
    assert_eq!(answer.status, 422);
    assert_eq!(z.tickets().len(), 1);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("x");
    let answer = send(
        &r,
        json_request(
            "PUT",
            &format!("/api/v2/tickets/{id}.json"),
            Some(&auth),
            "{not json",
        ),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(answer.json()["error"].is_string());
}

#[tokio::test(start_paused = true)]
async fn rate_limit_headers_then_429_with_retry_after() {
    let (_z, r, auth) = zendesk_with(3);
    for remaining in [2, 1, 0] {
        let answer = send(&r, get("/api/v2/users/me.json", Some(&auth))).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-rate-limit"), "3");
        assert_eq!(
            answer.header("x-rate-limit-remaining"),
            remaining.to_string()
        );
    }
    tokio::time::advance(Duration::from_secs(15)).await;
    let limited = send(&r, get("/api/v2/users/me.json", Some(&auth))).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), "45");
    assert_eq!(limited.header("x-rate-limit-remaining"), "0");
    tokio::time::advance(Duration::from_secs(45)).await;
    assert_eq!(
        send(&r, get("/api/v2/users/me.json", Some(&auth)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn set_rate_limit_takes_effect_immediately() {
    let (z, r, auth) = zendesk();
    z.set_rate_limit(1);
    assert_eq!(
        send(&r, get("/api/v2/users/me.json", Some(&auth)))
            .await
            .status,
        200
    );
    assert_eq!(
        send(&r, get("/api/v2/users/me.json", Some(&auth)))
            .await
            .status,
        429
    );
}

#[tokio::test]
async fn requests_are_recorded_with_bodies_and_without_credentials() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("x");
    put(
        &r,
        &auth,
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"comment": {"body": "hi"}}}),
    )
    .await;
    let requests = z.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, 200);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.clone()),
        ("PUT", format!("/api/v2/tickets/{id}.json"))
    );
    assert!(requests[0].body.as_deref().unwrap().contains("\"hi\""));
    let dump = format!("{requests:?}");
    assert!(!dump.contains(&z.api_token()));
    assert!(!requests[0].connection_close);
    send(
        &r,
        crate::test_support::closing(get("/api/v2/users/me.json", Some(&auth))),
    )
    .await;
    assert!(z.requests()[1].connection_close);
}

#[tokio::test]
async fn faults_apply_to_the_api_but_not_to_control_routes() {
    let (z, r, auth) = zendesk();
    z.faults().fail_next(1, 503);
    assert_eq!(send(&r, get("/_control/state", None)).await.status, 200);
    let failed = send(&r, get("/api/v2/users/me.json", Some(&auth))).await;
    assert_eq!(failed.status, 503);
    assert_eq!(
        send(&r, get("/api/v2/users/me.json", Some(&auth)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn control_api_creates_and_lists_tickets() {
    let (z, r, _auth) = zendesk();
    let answer = send(
        &r,
        json_request(
            "POST",
            "/_control/tickets",
            None,
            r#"{"subject":"From control"}"#,
        ),
    )
    .await;
    let id = answer.json()["id"].as_u64().unwrap();
    assert_eq!(z.ticket(id).unwrap().subject, "From control");
    let listed = send(&r, get(&format!("/_control/tickets/{id}"), None)).await;
    assert_eq!(listed.json()["ticket"]["subject"], "From control");
    let faults = send(
        &r,
        json_request(
            "POST",
            "/_control/faults",
            None,
            r#"{"fail_next":2,"status":502}"#,
        ),
    )
    .await;
    assert_eq!(faults.json()["pending_faults"], 2);
    assert_eq!(z.faults().pending(), 2);
}

#[tokio::test(start_paused = true)]
async fn updates_of_one_ticket_are_limited_per_ten_minutes() {
    let (z, r, auth) = zendesk_with(1000);
    assert_eq!(super::TICKET_UPDATES_PER_10_MINUTES, 30);
    z.set_ticket_update_limit(2);
    let id = z.create_ticket("busy");
    let other = z.create_ticket("quiet");
    let uri = format!("/api/v2/tickets/{id}.json");
    for _ in 0..2 {
        assert_eq!(
            put(
                &r,
                &auth,
                &uri,
                json!({"ticket": {"comment": {"body": "x"}}})
            )
            .await
            .status,
            200
        );
    }
    let limited = put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"comment": {"body": "x"}}}),
    )
    .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), "600");
    assert!(!limited.header("x-rate-limit").is_empty());
    assert_eq!(z.comments(id).len(), 2);
    let elsewhere = put(
        &r,
        &auth,
        &format!("/api/v2/tickets/{other}.json"),
        json!({"ticket": {"comment": {"body": "x"}}}),
    )
    .await;
    assert_eq!(elsewhere.status, 200);
    tokio::time::advance(Duration::from_secs(600)).await;
    assert_eq!(
        put(
            &r,
            &auth,
            &uri,
            json!({"ticket": {"comment": {"body": "x"}}})
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn every_authenticated_answer_carries_the_rate_limit_headers() {
    let (z, r, auth) = zendesk_with(50);
    let id = z.create_ticket("x");
    let end_user = basic(
        &format!("{}/token", z.end_user_email()),
        &z.end_user_token(),
    );
    let answers = [
        send(&r, get("/api/v2/users/me.json", Some(&auth))).await,
        send(
            &r,
            get(&format!("/api/v2/tickets/{id}.json"), Some(&end_user)),
        )
        .await,
        send(&r, get("/api/v2/tickets/999.json", Some(&auth))).await,
        put(
            &r,
            &auth,
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"comment": {"body": " "}}}),
        )
        .await,
        send(
            &r,
            json_request(
                "PUT",
                &format!("/api/v2/tickets/{id}.json"),
                Some(&auth),
                "{",
            ),
        )
        .await,
        send(
            &r,
            get(&format!("/api/v2/tickets/{id}/comments.json"), Some(&auth)),
        )
        .await,
    ];
    let seen: Vec<(u16, String, String)> = answers
        .iter()
        .map(|a| {
            (
                a.status,
                a.header("x-rate-limit").to_string(),
                a.header("x-rate-limit-remaining").to_string(),
            )
        })
        .collect();
    let expected: Vec<(u16, String, String)> = [200u16, 403, 404, 422, 400, 200]
        .iter()
        .enumerate()
        .map(|(i, status)| (*status, "50".to_string(), (49 - i).to_string()))
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn comments_longer_than_65535_characters_are_422_record_invalid() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Long");
    let uri = format!("/api/v2/tickets/{id}.json");
    // Characters, not bytes: 65,535 two-byte characters still fit.
    let fits = "é".repeat(super::MAX_COMMENT_CHARS);
    let answer = put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"comment": {"body": fits, "public": false}}}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let html = format!("<p>{}</p>", "x".repeat(super::MAX_COMMENT_CHARS - 6));
    let answer = put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"comment": {"html_body": html, "public": false}}}),
    )
    .await;
    assert_eq!(answer.status, 422);
    let json = answer.json();
    assert_eq!(json["error"], "RecordInvalid");
    assert_eq!(json["details"]["base"][0]["error"], "TooLong");
    assert_eq!(z.comments(id).len(), 1, "the long comment is not added");
}

fn upload_request(uri: &str, auth: &str, body: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .method("POST")
        .uri(uri)
        .header(axum::http::header::AUTHORIZATION, auth)
        .header(axum::http::header::CONTENT_TYPE, "text/html")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn uploads_give_tokens_that_attach_files_to_one_comment() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Files");
    let answer = send(
        &r,
        upload_request(
            "/api/v2/uploads.json?filename=report.html",
            &auth,
            "<p>full</p>",
        ),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let token = answer.json()["upload"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        answer.json()["upload"]["attachment"]["file_name"],
        "report.html"
    );
    let uri = format!("/api/v2/tickets/{id}.json");
    let body =
        json!({"ticket": {"comment": {"body": "see file", "public": false, "uploads": [token]}}});
    assert_eq!(put(&r, &auth, &uri, body.clone()).await.status, 200);
    let c = &z.comments(id)[0];
    assert_eq!(c.attachments.len(), 1);
    assert_eq!(c.attachments[0].text(), "<p>full</p>");
    assert_eq!(c.attachments[0].content_type, "text/html");
    // Listed on the comment, and a token is used once.
    let listed = send(
        &r,
        get(&format!("/api/v2/tickets/{id}/comments.json"), Some(&auth)),
    )
    .await
    .json();
    assert_eq!(
        listed["comments"][0]["attachments"][0]["file_name"],
        "report.html"
    );
    let again = put(&r, &auth, &uri, body).await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert_eq!(z.comments(id).len(), 1);
    // A missing file name is refused.
    let answer = send(&r, upload_request("/api/v2/uploads.json", &auth, "x")).await;
    assert_eq!(answer.status, 422);
}

#[tokio::test]
async fn refused_uploads_answer_422_until_allowed_again() {
    let (z, r, auth) = zendesk();
    z.refuse_uploads(Some("file type not allowed"));
    let answer = send(
        &r,
        upload_request("/api/v2/uploads.json?filename=r.html", &auth, "x"),
    )
    .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.json()["error"], "RecordInvalid");
    assert!(answer.body.contains("file type not allowed"));
    z.refuse_uploads(None);
    let answer = send(
        &r,
        upload_request("/api/v2/uploads.json?filename=r.html", &auth, "x"),
    )
    .await;
    assert_eq!(answer.status, 201);
}

#[tokio::test]
async fn additional_tags_add_and_remove_tags_remove_in_a_ticket_update() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Tags");
    let uri = format!("/api/v2/tickets/{id}.json");
    put(&r, &auth, &uri, json!({"ticket": {"tags": ["vip", "old"]}})).await;
    let answer = put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"comment": {"body": "x", "public": false}, "additional_tags": ["remote_support", "vip"], "remove_tags": ["old"]}}),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(z.ticket(id).unwrap().tags, vec!["vip", "remote_support"]);
}

#[tokio::test]
async fn comments_are_paginated_with_absolute_next_page_links_in_either_order() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Many");
    for i in 0..5 {
        put(
            &r,
            &auth,
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"comment": {"body": format!("c{i}"), "public": false}}}),
        )
        .await;
    }
    z.set_comments_per_page(2);
    let page = |uri: String| {
        let r = r.clone();
        let auth = auth.clone();
        async move { send(&r, get(&uri, Some(&auth))).await.json() }
    };
    let first = page(format!("/api/v2/tickets/{id}/comments.json")).await;
    assert_eq!(first["count"], 5);
    assert_eq!(first["comments"].as_array().unwrap().len(), 2);
    assert_eq!(first["comments"][0]["body"], "c0");
    let next = first["next_page"].as_str().unwrap();
    assert!(
        next.starts_with(&format!(
            "{}/api/v2/tickets/{id}/comments.json?page=2",
            z.base_url()
        )),
        "{next}"
    );
    let desc = page(format!(
        "/api/v2/tickets/{id}/comments.json?sort_order=desc&per_page=4"
    ))
    .await;
    assert_eq!(desc["comments"][0]["body"], "c4");
    let next = desc["next_page"].as_str().unwrap().to_string();
    let path = &next[next.find("/api/").unwrap()..];
    let last = page(path.to_string()).await;
    assert_eq!(last["comments"][0]["body"], "c0");
    assert!(last["next_page"].is_null());
    assert!(last["previous_page"].is_string());
    z.set_next_page_base(Some("https://sandbox.zendesk.test/"));
    let first = page(format!("/api/v2/tickets/{id}/comments.json")).await;
    assert!(first["next_page"]
        .as_str()
        .unwrap()
        .starts_with("https://sandbox.zendesk.test/api/v2/"));
}

#[tokio::test(start_paused = true)]
async fn a_late_update_never_answers_but_is_applied_later() {
    let (z, r, auth) = zendesk();
    let id = z.create_ticket("Late");
    z.apply_next_update_late(Duration::from_secs(20));
    let uri = format!("/api/v2/tickets/{id}.json");
    let call = put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"comment": {"body": "late", "public": false}}}),
    );
    let answered = tokio::time::timeout(Duration::from_secs(10), call).await;
    assert!(answered.is_err(), "the caller times out");
    assert!(z.comments(id).is_empty(), "not applied yet");
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(
        z.comments(id).len(),
        1,
        "applied although the caller gave up"
    );
    let next = put(
        &r,
        &auth,
        &uri,
        json!({"ticket": {"comment": {"body": "next", "public": false}}}),
    )
    .await;
    assert_eq!(next.status, 200, "only one update is late");
}

#[tokio::test]
async fn control_api_sets_upload_refusal_comment_pages_late_updates_and_retry_after() {
    let (z, r, auth) = zendesk();
    let ctl = |method: &'static str, uri: &'static str, body: &'static str| {
        let r = r.clone();
        async move { send(&r, json_request(method, uri, None, body)).await }
    };
    assert_eq!(
        ctl("PUT", "/_control/uploads", r#"{"refuse":"no html"}"#)
            .await
            .status,
        200
    );
    let refused = send(
        &r,
        upload_request("/api/v2/uploads.json?filename=a.html", &auth, "x"),
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("no html"));
    ctl("PUT", "/_control/uploads", r#"{"refuse":null}"#).await;
    let ok = send(
        &r,
        upload_request("/api/v2/uploads.json?filename=a.html", &auth, "x"),
    )
    .await;
    assert_eq!(ok.status, 201);
    let pages = ctl(
        "PUT",
        "/_control/comment_pages",
        r#"{"per_page":1,"next_page_base":"https://other.zendesk.test"}"#,
    )
    .await;
    assert_eq!(pages.status, 200);
    assert_eq!(z.state().comments_per_page, 1);
    assert_eq!(z.next_page_base(), "https://other.zendesk.test");
    ctl("POST", "/_control/late_update", r#"{"delay_ms":50}"#).await;
    assert_eq!(z.state().late_updates.len(), 1);
    let faults = ctl(
        "POST",
        "/_control/faults",
        r#"{"fail_next":1,"status":503,"retry_after_secs":9}"#,
    )
    .await;
    assert_eq!(faults.json()["pending_faults"], 1);
    let answer = send(&r, get("/api/v2/users/me.json", Some(&auth))).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("retry-after"), "9");
}

#[tokio::test]
async fn a_new_tickets_first_comment_takes_upload_tokens_once() {
    let (z, r, auth) = zendesk();
    let answer = send(
        &r,
        upload_request(
            "/api/v2/uploads.json?filename=report.html",
            &auth,
            "<p>full</p>",
        ),
    )
    .await;
    let token = answer.json()["upload"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"ticket": {"subject": "S", "comment": {
        "html_body": "<p>summary</p>", "public": false, "uploads": [token]}}})
    .to_string();
    let created = send(
        &r,
        json_request("POST", "/api/v2/tickets.json", Some(&auth), &body),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["ticket"]["id"].as_u64().unwrap();
    let c = &z.comments(id)[0];
    assert_eq!(c.attachments.len(), 1);
    assert_eq!(c.attachments[0].text(), "<p>full</p>");
    // The token is spent: a second ticket with it is refused and not created.
    let again = send(
        &r,
        json_request("POST", "/api/v2/tickets.json", Some(&auth), &body),
    )
    .await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert_eq!(z.tickets().len(), 1);
}
