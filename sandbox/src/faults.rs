//! Fault plans shared by both simulators: fail, hang, drop mid-answer, answer slowly, go down.
//!
//! Planned faults form a FIFO: `fail_next(2, 503)` then `drop_next(1)` makes the next two API
//! calls answer 503 and the third lose its connection mid-answer. Control routes (`/_control`)
//! are never affected, except by `set_down`, which closes the whole port.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Bytes, Frame};
use tokio::sync::watch;

/// How long a "timed out" call hangs before the server gives up on it. Any sane client timeout
/// is shorter.
pub(crate) const HANG: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultAction {
    Fail(u16),
    /// `Fail` with a `Retry-After: secs` header (429 or 503 when the server asks for a pause).
    FailRetryAfter(u16, u64),
    Timeout,
    Drop,
}

#[derive(Debug, Default)]
struct Plan {
    queue: VecDeque<FaultAction>,
    slow: Duration,
}

/// Fault plan of one simulated server. Cheap to clone; clones share the plan.
#[derive(Debug, Clone)]
pub struct Faults {
    plan: Arc<Mutex<Plan>>,
    down: Arc<watch::Sender<bool>>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            plan: Arc::default(),
            down: Arc::new(watch::Sender::new(false)),
        }
    }
}

impl Faults {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next `n` API calls answer `status` with a short plain-text body.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut plan = self.plan();
        plan.queue
            .extend(std::iter::repeat_n(FaultAction::Fail(status), n as usize));
    }

    /// The next `n` API calls answer `status` with `Retry-After: secs` (a server under
    /// maintenance or throttling saying when to come back).
    pub fn fail_next_retry_after(&self, n: u32, status: u16, secs: u64) {
        self.plan().queue.extend(std::iter::repeat_n(
            FaultAction::FailRetryAfter(status, secs),
            n as usize,
        ));
    }

    /// The next `n` API calls never answer (the client's timeout fires).
    pub fn timeout_next(&self, n: u32) {
        self.plan()
            .queue
            .extend(std::iter::repeat_n(FaultAction::Timeout, n as usize));
    }

    /// The next `n` API calls get their headers and part of the body, then the connection closes.
    pub fn drop_next(&self, n: u32) {
        self.plan()
            .queue
            .extend(std::iter::repeat_n(FaultAction::Drop, n as usize));
    }

    /// Every API call waits `d` before being handled (`Duration::ZERO` turns it off).
    pub fn slow(&self, d: Duration) {
        self.plan().slow = d;
    }

    /// Down: the port refuses connections and open connections are closed. Up: it listens again
    /// on the same port.
    pub fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }

    /// Whether the server is currently down.
    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// Forgets every planned fault, the slowness, and brings the server back up.
    pub fn clear(&self) {
        let mut plan = self.plan();
        plan.queue.clear();
        plan.slow = Duration::ZERO;
        drop(plan);
        self.set_down(false);
    }

    /// Number of planned faults not yet consumed.
    pub fn pending(&self) -> usize {
        self.plan().queue.len()
    }

    pub(crate) fn subscribe_down(&self) -> watch::Receiver<bool> {
        self.down.subscribe()
    }

    fn take(&self) -> (Option<FaultAction>, Duration) {
        let mut plan = self.plan();
        (plan.queue.pop_front(), plan.slow)
    }
}

/// Axum middleware applying the plan to the simulated API routes.
pub(crate) async fn apply(State(faults): State<Faults>, req: Request, next: Next) -> Response {
    let (action, slow) = faults.take();
    if !slow.is_zero() {
        tokio::time::sleep(slow).await;
    }
    match action {
        None => next.run(req).await,
        Some(FaultAction::Fail(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, "Simulated failure (sandbox fault plan)\n").into_response()
        }
        Some(FaultAction::FailRetryAfter(status, secs)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (
                status,
                [(header::RETRY_AFTER, secs.to_string())],
                "Simulated failure (sandbox fault plan)\n",
            )
                .into_response()
        }
        Some(FaultAction::Timeout) => {
            tokio::time::sleep(HANG).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Some(FaultAction::Drop) => {
            let mut response = Response::new(Body::new(TruncatedBody { sent: false }));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            response
        }
    }
}

/// A body that yields one chunk and then fails, which makes hyper abort the connection
/// mid-answer.
struct TruncatedBody {
    sent: bool,
}

impl hyper::body::Body for TruncatedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.sent {
            Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "sandbox fault plan: connection dropped mid-answer",
            ))))
        } else {
            self.sent = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                b"<?xml version=\"1.0\"",
            )))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{middleware, routing::get, Router};
    use tower::ServiceExt;

    fn app(faults: &Faults) -> Router {
        Router::new()
            .route("/x", get(|| async { "ok" }))
            .layer(middleware::from_fn_with_state(faults.clone(), apply))
    }

    async fn status(app: &Router) -> u16 {
        let req = Request::builder().uri("/x").body(Body::empty()).unwrap();
        app.clone().oneshot(req).await.unwrap().status().as_u16()
    }

    #[tokio::test]
    async fn planned_failures_are_consumed_in_order() {
        let faults = Faults::default();
        let app = app(&faults);
        faults.fail_next(2, 503);
        faults.fail_next(1, 502);
        faults.fail_next_retry_after(1, 503, 7);
        assert_eq!(status(&app).await, 503);
        assert_eq!(status(&app).await, 503);
        assert_eq!(status(&app).await, 502);
        let req = Request::builder().uri("/x").body(Body::empty()).unwrap();
        let answer = app.clone().oneshot(req).await.unwrap();
        assert_eq!(answer.status(), 503);
        assert_eq!(answer.headers()[header::RETRY_AFTER], "7");
        assert_eq!(status(&app).await, 200);
    }

    #[tokio::test]
    async fn retry_after_failures_carry_the_header() {
        let faults = Faults::default();
        let app = app(&faults);
        faults.fail_next_retry_after(1, 503, 120);
        let req = Request::builder().uri("/x").body(Body::empty()).unwrap();
        let answer = app.clone().oneshot(req).await.unwrap();
        assert_eq!(answer.status().as_u16(), 503);
        assert_eq!(answer.headers()[header::RETRY_AFTER], "120");
        assert_eq!(status(&app).await, 200);
    }

    #[tokio::test]
    async fn clear_forgets_the_plan_and_brings_the_server_up() {
        let faults = Faults::default();
        let app = app(&faults);
        faults.fail_next(3, 500);
        faults.set_down(true);
        faults.clear();
        assert!(!faults.is_down());
        assert_eq!(status(&app).await, 200);
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_hangs_for_longer_than_any_client_waits() {
        let faults = Faults::default();
        let app = app(&faults);
        faults.timeout_next(1);
        let req = Request::builder().uri("/x").body(Body::empty()).unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(600), app.clone().oneshot(req)).await;
        assert!(
            answer.is_err(),
            "the call must not answer within 10 minutes"
        );
        assert_eq!(status(&app).await, 200, "only one call hangs");
    }

    #[tokio::test(start_paused = true)]
    async fn slow_delays_each_answer() {
        let faults = Faults::default();
        let app = app(&faults);
        faults.slow(Duration::from_secs(5));
        let started = tokio::time::Instant::now();
        assert_eq!(status(&app).await, 200);
        assert!(started.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test]
    async fn dropped_answer_body_fails_after_a_partial_chunk() {
        let faults = Faults::default();
        let app = app(&faults);
        faults.drop_next(1);
        let req = Request::builder().uri("/x").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(req).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        assert!(body.is_err());
    }
}
