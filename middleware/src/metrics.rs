//! `GET /metrics` (Prometheus text format) and `GET /readyz`.
//!
//! Counters and the latency histogram are process-wide (one middleware per process); queue
//! depth and the oldest due age are read from the store at scrape time, so with several
//! instances on one Postgres database every instance reports the shared queue.
//!
//! Names: `rsz_events_received_total{type,outcome}`, `rsz_queue_depth{status}`,
//! `rsz_oldest_due_age_seconds`, `rsz_processing_seconds` (histogram),
//! `rsz_retries_total`, `rsz_zendesk_requests_total{status}`,
//! `rsz_appliance_requests_total{status}`, `rsz_rate_limit_waits_total`.

use std::sync::{Arc, LazyLock};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::app::Shared;
use crate::store::Status;

type Labels = Vec<(&'static str, String)>;

struct Metrics {
    registry: Registry,
    received: Family<Labels, Counter>,
    queue: Family<Labels, Gauge>,
    oldest_due: Gauge<f64, std::sync::atomic::AtomicU64>,
    processing: Histogram,
    retries: Counter,
    zendesk: Family<Labels, Counter>,
    appliance: Family<Labels, Counter>,
    rate_waits: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let received = Family::<Labels, Counter>::default();
    registry.register(
        "rsz_events_received",
        "Outbound events received, by event type and outcome",
        received.clone(),
    );
    let queue = Family::<Labels, Gauge>::default();
    registry.register("rsz_queue_depth", "Stored events by status", queue.clone());
    let oldest_due = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    registry.register(
        "rsz_oldest_due_age_seconds",
        "How long the oldest due event has been waiting (0 when none is due)",
        oldest_due.clone(),
    );
    let processing = Histogram::new(exponential_buckets(0.01, 2.0, 14));
    registry.register(
        "rsz_processing_seconds",
        "Time to process one claimed event (report, render, Zendesk)",
        processing.clone(),
    );
    let retries = Counter::default();
    registry.register(
        "rsz_retries",
        "Attempts that will be retried",
        retries.clone(),
    );
    let zendesk = Family::<Labels, Counter>::default();
    registry.register(
        "rsz_zendesk_requests",
        "Zendesk API calls by HTTP status (0: no answer)",
        zendesk.clone(),
    );
    let appliance = Family::<Labels, Counter>::default();
    registry.register(
        "rsz_appliance_requests",
        "BeyondTrust API calls by HTTP status (0: no answer)",
        appliance.clone(),
    );
    let rate_waits = Counter::default();
    registry.register(
        "rsz_rate_limit_waits",
        "Times a Zendesk request waited for the update budget",
        rate_waits.clone(),
    );
    Metrics {
        registry,
        received,
        queue,
        oldest_due,
        processing,
        retries,
        zendesk,
        appliance,
        rate_waits,
    }
});

/// An outbound event was answered: `outcome` is `stored`, `duplicate`, `refused`, `error`...
pub fn received(event_type: &str, outcome: &'static str) {
    // Event types come from the sender: keep unknown ones from growing the label set.
    let event_type = if crate::config::PROCESSABLE_EVENTS.contains(&event_type) {
        event_type.to_string()
    } else {
        "other".to_string()
    };
    METRICS
        .received
        .get_or_create(&vec![
            ("type", event_type),
            ("outcome", outcome.to_string()),
        ])
        .inc();
}

/// A request was refused before its event was read (network, token).
pub fn refused(status: u16) {
    METRICS
        .received
        .get_or_create(&vec![
            ("type", "unknown".into()),
            ("outcome", format!("refused_{status}")),
        ])
        .inc();
}

pub fn processing_time(d: std::time::Duration) {
    METRICS.processing.observe(d.as_secs_f64());
}

pub fn retry() {
    METRICS.retries.inc();
}

pub fn zendesk_call(status: u16) {
    METRICS
        .zendesk
        .get_or_create(&vec![("status", status.to_string())])
        .inc();
}

pub fn appliance_call(status: u16) {
    METRICS
        .appliance
        .get_or_create(&vec![("status", status.to_string())])
        .inc();
}

pub fn rate_limit_wait() {
    METRICS.rate_waits.inc();
}

const STATUSES: [Status; 7] = [
    Status::Received,
    Status::Retry,
    Status::Processing,
    Status::Done,
    Status::Failed,
    Status::Unassociated,
    Status::Skipped,
];

/// `GET /metrics`.
pub async fn scrape(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let m = &*METRICS;
    match shared.store.status_counts().await {
        Ok(counts) => {
            for s in STATUSES {
                let n = counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
                m.queue
                    .get_or_create(&vec![("status", s.as_str().to_string())])
                    .set(n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count events"),
    }
    match shared.store.oldest_due_at().await {
        Ok(Some(at)) => {
            m.oldest_due
                .set(((crate::store::now_ms() - at).max(0) as f64) / 1000.0);
        }
        Ok(None) => {
            m.oldest_due.set(0.0);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the oldest due event"),
    };
    let mut out = String::new();
    if encode(&mut out, &m.registry).is_err() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "encoding failed\n".to_string(),
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// `GET /readyz`: 200 when the database answers, 503 with the reason otherwise.
pub async fn ready(State(shared): State<Arc<Shared>>) -> (StatusCode, String) {
    match shared.store.ping().await {
        Ok(()) if shared.is_shutting_down() => {
            (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n".into())
        }
        Ok(()) => (StatusCode::OK, "ready\n".into()),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database not reachable: {e}\n"),
        ),
    }
}
