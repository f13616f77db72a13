//! The outbound-event listener: `POST /ERSPost[?appliance=ID]`.
//!
//! The appliance sends nothing else until it gets a 200 for the current event, so the handler
//! only stores the event and answers; workers do the rest. Non-200 answers are reserved for
//! events that could not be stored or were never meant for us (unknown or disabled appliance id
//! -> 404, no `event` field -> 400); the appliance keeps those and shows the reason in its
//! Status column.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use crate::app::Shared;
use crate::config::valid_appliance_id;
use crate::store::{Inserted, NewEvent, Source, Status};

/// Outbound events are small form posts; custom fields are capped at 10 KB by the appliance.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router(shared: Arc<Shared>) -> Router {
    // Network, token and body timeout checks guard the events endpoint only (see `guard`).
    let guarded = post(receive).layer(axum::middleware::from_fn_with_state(
        shared.clone(),
        crate::guard::check,
    ));
    Router::new()
        .route("/ERSPost", guarded)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(crate::metrics::ready))
        .route("/metrics", get(crate::metrics::scrape))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> (StatusCode, String) {
    let appliance = query
        .get("appliance")
        .map(String::as_str)
        .unwrap_or("default");
    if !valid_appliance_id(appliance) {
        crate::metrics::received("unknown", "refused_404");
        return (
            StatusCode::NOT_FOUND,
            "invalid appliance id (letters, digits, '.' and '_' only)\n".into(),
        );
    }
    let rt = match shared.configuration_for_appliance(appliance) {
        Ok(rt) => rt,
        Err(reason) => {
            tracing::warn!(appliance, %reason, "event refused");
            crate::metrics::received("unknown", "refused_404");
            return (StatusCode::NOT_FOUND, format!("{reason}\n"));
        }
    };
    let cfg = &rt.cfg;
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let Some(event_type) = get("event").filter(|e| !e.is_empty()) else {
        crate::metrics::received("unknown", "refused_400");
        return (StatusCode::BAD_REQUEST, "missing event field\n".into());
    };
    let lsid = get("lsid").unwrap_or_default();
    let processed = cfg
        .beyondtrust
        .outbound_event_types
        .iter()
        .any(|t| t == &event_type);
    let (status, note) = match (processed, lsid.is_empty()) {
        (false, _) => (
            Status::Skipped,
            Some(format!(
                "event type {event_type} is not processed by this configuration"
            )),
        ),
        (true, true) => (Status::Failed, Some("event has no lsid".to_string())),
        (true, false) => (Status::Received, None),
    };
    let event = NewEvent {
        configuration: cfg.name.clone(),
        appliance_id: cfg.appliance_id.clone(),
        event_type: event_type.clone(),
        lsid,
        event_timestamp: get("timestamp").unwrap_or_default(),
        source: Source::Outbound,
        fields,
        status,
        note,
    };
    match shared.store.insert_event(&event).await {
        Ok(Inserted::New(id)) => {
            tracing::info!(id, event_type = %event.event_type, lsid = %event.lsid, status = status.as_str(), "event stored");
            if status == Status::Received {
                shared.wake.notify_waiters();
            }
            crate::metrics::received(&event.event_type, status.as_str());
            (StatusCode::OK, "OK\n".into())
        }
        Ok(Inserted::Duplicate) => {
            tracing::info!(event_type = %event.event_type, lsid = %event.lsid, "duplicate delivery ignored");
            crate::metrics::received(&event.event_type, "duplicate");
            (StatusCode::OK, "OK (duplicate)\n".into())
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store event");
            crate::metrics::received(&event.event_type, "error");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the event; retry later\n".into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tokio::sync::watch;
    use tower::ServiceExt;

    /// Removes the test database when the test ends.
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            crate::testing::remove_sqlite_files(&self.0);
        }
    }

    async fn shared() -> (Arc<Shared>, Cleanup) {
        let url = crate::testing::temp_database_url("ingest");
        let text = format!(
            r#"
[server]
database_url = "{}"
[[configuration]]
name = "Prod"
appliance_id = "default"
[configuration.beyondtrust]
host = "127.0.0.1:9"
client_id = "id"
client_secret = "secret"
[configuration.zendesk]
url = "http://127.0.0.1:9"
username = "a@b.c"
token = "t"
[[configuration]]
name = "Off"
appliance_id = "off.site"
disabled = true
[configuration.beyondtrust]
host = "127.0.0.1:9"
client_id = "id"
client_secret = "secret"
[configuration.zendesk]
url = "http://127.0.0.1:9"
username = "a@b.c"
token = "t"
"#,
            url
        );
        let config = crate::config::parse(&text, "test.toml", &|_| None).unwrap();
        let (_tx, rx) = watch::channel(false);
        std::mem::forget(_tx);
        (
            Shared::build(config, crate::app::Tuning::default(), rx)
                .await
                .unwrap(),
            Cleanup(url),
        )
    }

    async fn post(shared: &Arc<Shared>, uri: &str, body: impl Into<Body>) -> (StatusCode, String) {
        let req = Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.into())
            .unwrap();
        let resp = router(shared.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    const END: &str = "event=support_conference_end&version=1&timestamp=1700000900&appliance_id=x&lsid=abc&external_key=12";

    #[tokio::test]
    async fn stores_event_and_answers_200() {
        let (s, _db) = shared().await;
        let (status, _) = post(&s, "/ERSPost", END).await;
        assert_eq!(status, StatusCode::OK);
        let events = s.store.events().await.unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(
            (
                e.event_type.as_str(),
                e.lsid.as_str(),
                e.event_timestamp.as_str()
            ),
            ("support_conference_end", "abc", "1700000900")
        );
        assert_eq!(e.status, Status::Received);
        assert_eq!(e.configuration, "Prod");
        assert!(e.fields.contains(&("external_key".into(), "12".into())));
    }

    #[tokio::test]
    async fn appliance_id_is_matched_case_insensitively() {
        let (s, _db) = shared().await;
        assert_eq!(
            post(&s, "/ERSPost?appliance=Default", END).await.0,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn unknown_or_disabled_appliance_is_404_with_reason() {
        let (s, _db) = shared().await;
        let (status, body) = post(&s, "/ERSPost?appliance=nope", END).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("nope") && body.lines().count() == 1, "{body}");
        let (status, body) = post(&s, "/ERSPost?appliance=off.site", END).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            body.contains("disabled") && body.contains("off.site") && body.lines().count() == 1,
            "{body}"
        );
        let (status, _) = post(&s, "/ERSPost?appliance=bad%20id", END).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(s.store.events().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn missing_event_is_400() {
        let (s, _db) = shared().await;
        let (status, _) = post(&s, "/ERSPost", "version=1&lsid=abc").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = post(&s, "/ERSPost", "event=&version=1&lsid=abc").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(s.store.events().await.unwrap().is_empty());
    }

    /// The 200 is the appliance's signal that the event is safe: an event that could not be
    /// stored must not get one (the appliance then keeps it and sends it again).
    #[tokio::test]
    async fn answers_200_only_after_the_event_is_stored() {
        let (s, _db) = shared().await;
        s.store.close().await;
        let (status, body) = post(&s, "/ERSPost", END).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("could not store"), "{body}");
    }

    #[tokio::test]
    async fn unprocessed_types_are_recorded_as_skipped() {
        let (s, _db) = shared().await;
        let (status, _) = post(
            &s,
            "/ERSPost",
            "event=support_conference_begin&timestamp=1&lsid=abc",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = post(&s, "/ERSPost", "event=something_new&timestamp=1").await;
        assert_eq!(status, StatusCode::OK);
        let events = s.store.events().await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.status).collect::<Vec<_>>(),
            [Status::Skipped, Status::Skipped]
        );
        assert!(s
            .store
            .claim_due(std::time::Duration::from_secs(1))
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn redelivery_is_accepted_once() {
        let (s, _db) = shared().await;
        for _ in 0..3 {
            assert_eq!(post(&s, "/ERSPost", END).await.0, StatusCode::OK);
        }
        assert_eq!(s.store.events().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let (s, _db) = shared().await;
        let big = format!("{END}&custom={}", "x".repeat(BODY_LIMIT + 1));
        let (status, _) = post(&s, "/ERSPost", big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(s.store.events().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn stored_event_wakes_a_waiting_worker() {
        let (s, _db) = shared().await;
        let notified = s.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        post(&s, "/ERSPost", END).await;
        tokio::time::timeout(std::time::Duration::from_secs(5), notified)
            .await
            .expect("woken");
    }
}
