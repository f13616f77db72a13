//! The simulated Zendesk instance: users/me, tickets, comments, tags, rate limiting.
//!
//! Routes under `/api/v2` are the simulated API (fault plan, authentication, rate limit and
//! recording apply in that order); `/_control/...` is the JSON control API.

mod auth;
mod control;
mod create;
mod model;
mod rate_limit;
mod tickets;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::routing::{get, post};
use axum::{middleware, Router};

pub use create::User;
pub use model::{Attachment, Comment, CustomField, Ticket};

use crate::appliance::random_token;
use crate::faults::{self, Faults};
use crate::recorded::RecordedCall;
use crate::server::{self, ServerHandle};
use crate::{SandboxError, SandboxOptions};

/// Zendesk's limit of comments per ticket.
pub const MAX_COMMENTS: usize = 5000;
/// Zendesk's limit of updates of one ticket by one user per ten minutes.
pub const TICKET_UPDATES_PER_10_MINUTES: usize = 30;
/// Longest comment body accepted, in characters (Zendesk: "roughly 65,000"; past it, 422).
pub const MAX_COMMENT_CHARS: usize = 65_535;
/// Comments per page when the caller does not say (Zendesk's default and maximum: 100).
pub const COMMENTS_PER_PAGE: usize = 100;

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
    /// Upload token -> file, until a comment uses it.
    uploads: HashMap<String, Attachment>,
    next_attachment: u64,
    /// Why uploads are refused (an admin's file type restriction), when they are.
    uploads_refused: Option<String>,
    comments_per_page: usize,
    /// Base of `next_page` links when it differs from `base_url` (another host form).
    next_page_base: Option<String>,
    /// Planned "applied late" ticket updates: each hangs and is applied after its delay.
    late_updates: VecDeque<Duration>,
    /// Idempotency keys of ticket creations and the users made from requesters.
    creates: create::Creates,
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
                    uploads: HashMap::new(),
                    next_attachment: 900_000,
                    uploads_refused: None,
                    comments_per_page: COMMENTS_PER_PAGE,
                    next_page_base: None,
                    late_updates: VecDeque::new(),
                    creates: create::Creates::default(),
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
            .route("/api/v2/tickets.json", post(create::create))
            .route("/api/v2/uploads.json", post(tickets::upload))
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
                requester_id: None,
                group_id: None,
                brand_id: None,
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
    /// Refuse every upload with `reason` (as an admin's attachment file type restriction
    /// would), or accept them again with `None`.
    pub fn refuse_uploads(&self, reason: Option<&str>) {
        self.state().uploads_refused = reason.map(str::to_string);
    }
    /// Page size of comment listings when the caller sends no `per_page` (100 by default).
    pub fn set_comments_per_page(&self, n: usize) {
        self.state().comments_per_page = n.clamp(1, 100);
    }
    /// Writes `next_page` / `previous_page` links on another base (e.g. `HTTP://LOCALHOST:PORT`
    /// or the account's canonical host), as Zendesk does behind host mapping; `None` = base_url.
    pub fn set_next_page_base(&self, base: Option<&str>) {
        self.state().next_page_base = base.map(|b| b.trim_end_matches('/').to_string());
    }
    pub(crate) fn next_page_base(&self) -> String {
        self.state()
            .next_page_base
            .clone()
            .unwrap_or_else(|| self.base_url())
    }
    /// The next ticket update (PUT tickets/{id}.json) never answers; Zendesk applies it `delay`
    /// later anyway. Several calls queue several such updates.
    pub fn apply_next_update_late(&self, delay: Duration) {
        self.state().late_updates.push_back(delay);
    }
    pub(crate) fn take_late_update(&self) -> Option<Duration> {
        self.state().late_updates.pop_front()
    }
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }
    /// Every authenticated API request, with its JSON body (never the Authorization header).
    pub fn requests(&self) -> Vec<RecordedCall> {
        self.state().requests.clone()
    }
}
