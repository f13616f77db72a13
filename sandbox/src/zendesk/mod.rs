//! The simulated Zendesk instance: users/me, tickets, comments, tags, rate limiting.
//!
//! Routes under `/api/v2` are the simulated API (fault plan, authentication, rate limit and
//! recording apply in that order); `/_control/...` is the JSON control API.

mod auth;
mod control;
mod model;
mod rate_limit;
mod tickets;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::routing::{get, post};
use axum::{middleware, Router};

pub use model::{Comment, CustomField, Ticket};

use crate::appliance::random_token;
use crate::faults::{self, Faults};
use crate::recorded::RecordedCall;
use crate::server::{self, ServerHandle};
use crate::{SandboxError, SandboxOptions};

/// Zendesk's limit of comments per ticket.
pub const MAX_COMMENTS: usize = 5000;
/// Zendesk's limit of updates of one ticket by one user per ten minutes.
pub const TICKET_UPDATES_PER_10_MINUTES: usize = 30;

#[derive(Debug)]
struct Config {
    base_url: String,
    email: String,
    api_token: String,
    agent_id: u64,
    end_user_email: String,
    end_user_token: String,
    end_user_id: u64,
}

#[derive(Debug)]
struct State {
    tickets: BTreeMap<u64, Ticket>,
    next_ticket: u64,
    next_comment: u64,
    requests: Vec<RecordedCall>,
    limiter: rate_limit::RateLimiter,
    ticket_updates: rate_limit::TicketUpdates,
    max_comments: usize,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    state: Mutex<State>,
    faults: Faults,
}

/// Cheap, cloneable handle to the running Zendesk simulator.
#[derive(Debug, Clone)]
pub struct Zendesk {
    inner: Arc<Inner>,
}

pub(crate) async fn start(opts: &SandboxOptions) -> Result<(Zendesk, ServerHandle), SandboxError> {
    let listener = server::bind("Zendesk", opts.zendesk_port).await?;
    let port = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind {
            what: "Zendesk",
            port: opts.zendesk_port,
            source,
        })?
        .port();
    let zendesk = Zendesk::new(format!("http://127.0.0.1:{port}"), opts, random_token(40));
    let handle = server::spawn(
        listener,
        zendesk.router(),
        None,
        zendesk.inner.faults.clone(),
    );
    Ok((zendesk, handle))
}

impl Zendesk {
    fn new(base_url: String, opts: &SandboxOptions, api_token: String) -> Zendesk {
        Zendesk {
            inner: Arc::new(Inner {
                config: Config {
                    base_url,
                    email: "agent@sandbox.zendesk.test".into(),
                    api_token,
                    agent_id: 1001,
                    end_user_email: "customer@sandbox.zendesk.test".into(),
                    end_user_token: random_token(40),
                    end_user_id: 2002,
                },
                state: Mutex::new(State {
                    tickets: BTreeMap::new(),
                    next_ticket: 1,
                    next_comment: 10_001,
                    requests: Vec::new(),
                    limiter: rate_limit::RateLimiter::new(opts.zendesk_rate_limit_per_minute),
                    ticket_updates: rate_limit::TicketUpdates::new(TICKET_UPDATES_PER_10_MINUTES),
                    max_comments: MAX_COMMENTS,
                }),
                faults: Faults::default(),
            }),
        }
    }

    #[cfg(test)]
    pub(crate) fn for_tests(opts: &SandboxOptions) -> Zendesk {
        Zendesk::new("http://127.0.0.1:9".into(), opts, "test-token".into())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn router(&self) -> Router {
        let api = Router::new()
            .route("/api/v2/users/me.json", get(tickets::me))
            .route("/api/v2/tickets.json", post(tickets::create))
            .route(
                "/api/v2/tickets/{file}",
                get(tickets::show).put(tickets::update),
            )
            .route(
                "/api/v2/tickets/{id}/{file}",
                get(tickets::comments).put(tickets::add_tags),
            )
            .layer(middleware::from_fn_with_state(self.clone(), auth::gate))
            .layer(middleware::from_fn_with_state(
                self.inner.faults.clone(),
                faults::apply,
            ))
            .with_state(self.clone());
        Router::new()
            .nest("/_control", control::router(self.clone()))
            .merge(api)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.config.base_url.clone()
    }
    /// `/_control` base URL.
    pub fn control_url(&self) -> String {
        format!("{}/_control", self.inner.config.base_url)
    }
    /// The agent's email (Basic auth user is `EMAIL/token`).
    pub fn email(&self) -> String {
        self.inner.config.email.clone()
    }
    pub fn api_token(&self) -> String {
        self.inner.config.api_token.clone()
    }
    /// The agent's user id (author of comments written with the agent's token).
    pub fn agent_id(&self) -> u64 {
        self.inner.config.agent_id
    }
    /// A non-agent (end-user) login: it authenticates, but ticket calls answer 403.
    pub fn end_user_email(&self) -> String {
        self.inner.config.end_user_email.clone()
    }
    pub fn end_user_token(&self) -> String {
        self.inner.config.end_user_token.clone()
    }

    /// Creates a ticket (status `open`, no comments yet) and returns its id.
    pub fn create_ticket(&self, subject: &str) -> u64 {
        let mut state = self.state();
        let id = state.next_ticket;
        state.next_ticket += 1;
        let now = model::now_iso();
        state.tickets.insert(
            id,
            Ticket {
                id,
                subject: subject.to_string(),
                status: "open".into(),
                tags: Vec::new(),
                custom_fields: Vec::new(),
                comments: Vec::new(),
                created_at: now.clone(),
                updated_at: now,
            },
        );
        id
    }
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.state().tickets.get(&id).cloned()
    }
    /// All tickets, by id.
    pub fn tickets(&self) -> Vec<Ticket> {
        self.state().tickets.values().cloned().collect()
    }
    /// Comments of a ticket, oldest first (empty for unknown tickets).
    pub fn comments(&self, id: u64) -> Vec<Comment> {
        self.state()
            .tickets
            .get(&id)
            .map(|t| t.comments.clone())
            .unwrap_or_default()
    }
    /// Requests allowed per minute (starts a fresh window).
    pub fn set_rate_limit(&self, per_minute: u32) {
        self.state().limiter.set_limit(per_minute);
    }
    /// Updates of one ticket allowed per ten minutes (30 by default); past it `PUT` answers 429.
    pub fn set_ticket_update_limit(&self, per_10_minutes: usize) {
        self.state().ticket_updates.set_limit(per_10_minutes);
    }
    /// Comments a ticket may hold (5000 by default) — lower it to test the 422.
    pub fn set_max_comments(&self, max: usize) {
        self.state().max_comments = max;
    }
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }
    /// Every authenticated API request, with its JSON body (never the Authorization header).
    pub fn requests(&self) -> Vec<RecordedCall> {
        self.state().requests.clone()
    }
}
