//! Outbound events: one FIFO per appliance, delivered by one background task, one at a time.
//!
//! As on a real appliance, an event that is not answered 200 (or whose connection fails) is
//! sent again after a short backoff, and every later event waits behind it. Only 200 counts:
//! 201, 204 and redirects (never followed) are failed attempts too.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{watch, Notify};

use crate::SandboxError;

/// `version` field of every outbound event.
pub(crate) const EVENT_VERSION: &str = "1.0";
/// How long one delivery attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// One event the receiver accepted (answered 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveredEvent {
    pub url: String,
    /// Form fields in the order sent.
    pub fields: Vec<(String, String)>,
    /// HTTP status of every attempt, oldest first (`None`: connection error or timeout); the
    /// last one is 200.
    pub attempts: Vec<Option<u16>>,
}

impl DeliveredEvent {
    /// Value of form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The `event` field.
    pub fn event(&self) -> &str {
        self.field("event").unwrap_or("")
    }
}

#[derive(Debug, Default)]
struct QueueState {
    url: Option<String>,
    pending: VecDeque<Vec<(String, String)>>,
    delivered: Vec<DeliveredEvent>,
    /// Attempts made so far for the event at the front of the queue.
    front_attempts: Vec<Option<u16>>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<QueueState>,
    wake: Notify,
    delivered_count: watch::Sender<usize>,
    stop: watch::Sender<bool>,
    backoff: Duration,
}

/// The appliance's outbound event queue.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    shared: Arc<Shared>,
}

impl Queue {
    pub fn new(url: Option<String>, backoff: Duration) -> Queue {
        Queue {
            shared: Arc::new(Shared {
                state: Mutex::new(QueueState {
                    url,
                    ..QueueState::default()
                }),
                wake: Notify::new(),
                delivered_count: watch::Sender::new(0),
                stop: watch::Sender::new(false),
                backoff,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, QueueState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push(&self, fields: Vec<(String, String)>) {
        self.state().pending.push_back(fields);
        self.shared.wake.notify_one();
    }

    pub fn set_url(&self, url: Option<String>) {
        self.state().url = url;
        self.shared.wake.notify_one();
    }

    pub fn url(&self) -> Option<String> {
        self.state().url.clone()
    }

    pub fn pending(&self) -> usize {
        self.state().pending.len()
    }

    pub fn pending_fields(&self) -> Vec<Vec<(String, String)>> {
        self.state().pending.iter().cloned().collect()
    }

    pub fn delivered(&self) -> Vec<DeliveredEvent> {
        self.state().delivered.clone()
    }

    pub async fn wait_delivered(&self, n: usize, timeout: Duration) -> Result<(), SandboxError> {
        let mut count = self.shared.delivered_count.subscribe();
        let reached = tokio::time::timeout(timeout, count.wait_for(|c| *c >= n)).await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(SandboxError::EventsTimeout {
                wanted: n,
                delivered: *self.shared.delivered_count.borrow(),
            }),
        }
    }

    pub fn stop(&self) {
        self.shared.stop.send_replace(true);
        self.shared.wake.notify_one();
    }

    pub fn start_worker(&self) {
        let queue = self.clone();
        tokio::spawn(async move { queue.run().await });
    }

    /// The front event and the URL to send it to, once both exist; `None` when stopping.
    async fn next(
        &self,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<(String, Vec<(String, String)>)> {
        loop {
            if *stop.borrow() {
                return None;
            }
            {
                let state = self.state();
                if let (Some(url), Some(front)) = (state.url.as_ref(), state.pending.front()) {
                    return Some((url.clone(), front.clone()));
                }
            }
            tokio::select! {
                _ = self.shared.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn run(self) {
        let client = match reqwest::Client::builder()
            .no_proxy()
            .timeout(ATTEMPT_TIMEOUT)
            .pool_max_idle_per_host(0)
            // A redirect is an answer other than 200: it fails the attempt, it is not followed
            // (following would turn the POST into a GET elsewhere and could count as delivered).
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(client) => client,
            Err(e) => {
                tracing::error!("outbound event client could not be built: {e}");
                return;
            }
        };
        let mut stop = self.shared.stop.subscribe();
        while let Some((url, fields)) = self.next(&mut stop).await {
            let status = match client.post(&url).form(&fields).send().await {
                Ok(response) => Some(response.status().as_u16()),
                Err(e) => {
                    tracing::debug!("outbound event delivery failed: {e}");
                    None
                }
            };
            let delivered = {
                let mut state = self.state();
                state.front_attempts.push(status);
                if status == Some(200) {
                    state.pending.pop_front();
                    let attempts = std::mem::take(&mut state.front_attempts);
                    state.delivered.push(DeliveredEvent {
                        url,
                        fields,
                        attempts,
                    });
                    self.shared
                        .delivered_count
                        .send_replace(state.delivered.len());
                    true
                } else {
                    false
                }
            };
            if !delivered {
                tokio::select! {
                    _ = tokio::time::sleep(self.shared.backoff) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}
