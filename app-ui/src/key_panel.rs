//! State of the session key card (API mode) and of the ticket's sessions list, as reducers.
//!
//! Plain Rust, tested natively: the components only render these and dispatch actions; the host
//! (`zendesk-app`) performs the requests and reports back through [`SidebarApi`] callbacks.

use app_core::session_key_api::{KeyFailure, SessionKey};
use app_core::ticket_sessions::{self, Comment, SessionRow};
use std::rc::Rc;
use yew::{Callback, Reducible};

/// What the key card shows.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyStatus {
    Idle,
    Generating,
    Shown(SessionKey),
    Failed(KeyFailure),
}

/// Outcome of Copy / Insert into reply, shown next to the buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Copied,
    Inserted,
    CopyFailed,
    InsertFailed,
}

/// A key generated in this sidebar (kept for the page's lifetime only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKey {
    pub short_key: String,
    /// Unix seconds when the appliance answered.
    pub issued_at: i64,
    pub expires: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyPanel {
    pub status: KeyStatus,
    /// Unix seconds, advanced by `Tick`.
    pub now: i64,
    pub done: Option<Done>,
    pub issued: Vec<IssuedKey>,
    /// The ticket's sessions list (one reducer for both: fewer hooks, smaller wasm).
    pub sessions: SessionsState,
}

impl Default for KeyPanel {
    fn default() -> KeyPanel {
        KeyPanel {
            status: KeyStatus::Idle,
            now: 0,
            done: None,
            issued: Vec::new(),
            sessions: SessionsState::Loading,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum KeyAction {
    Generate,
    Generated { key: SessionKey, now: i64 },
    Failed(KeyFailure),
    Tick(i64),
    Done(Done),
    Sessions(SessionsState),
}

impl KeyPanel {
    pub fn apply(&self, action: KeyAction) -> KeyPanel {
        let mut next = self.clone();
        match action {
            // A second press while a request runs changes nothing (one request at a time).
            KeyAction::Generate if self.status == KeyStatus::Generating => {}
            KeyAction::Generate => {
                next.status = KeyStatus::Generating;
                next.done = None;
            }
            KeyAction::Generated { key, now } => {
                next.now = now;
                next.issued.push(IssuedKey {
                    short_key: key.short_key.clone(),
                    issued_at: now,
                    expires: key.expires,
                });
                next.status = if key.seconds_left(now) == 0 {
                    KeyStatus::Failed(KeyFailure::Expired)
                } else {
                    KeyStatus::Shown(key)
                };
            }
            KeyAction::Failed(failure) => next.status = KeyStatus::Failed(failure),
            KeyAction::Tick(now) => {
                next.now = now;
                if let KeyStatus::Shown(key) = &self.status {
                    if key.seconds_left(now) == 0 {
                        next.status = KeyStatus::Failed(KeyFailure::Expired);
                        next.done = None;
                    }
                }
            }
            KeyAction::Done(done) => next.done = Some(done),
            KeyAction::Sessions(sessions) => next.sessions = sessions,
        }
        next
    }

    /// Keys issued here, not expired, with no session on the ticket that started after them.
    pub fn waiting(&self) -> Vec<&IssuedKey> {
        match &self.sessions {
            SessionsState::Loaded(rows) => self.waiting_for(rows),
            _ => self.waiting_for(&[]),
        }
    }

    fn waiting_for<'a>(&'a self, rows: &[SessionRow]) -> Vec<&'a IssuedKey> {
        self.issued
            .iter()
            .filter(|k| k.expires > self.now)
            .filter(|k| {
                !rows.iter().any(|r| {
                    ticket_sessions::unix_time(&r.when).is_some_and(|start| start >= k.issued_at)
                })
            })
            .collect()
    }
}

impl Reducible for KeyPanel {
    type Action = KeyAction;
    fn reduce(self: Rc<Self>, action: KeyAction) -> Rc<Self> {
        Rc::new(self.apply(action))
    }
}

/// The sessions list's state.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionsState {
    Loading,
    Failed,
    Loaded(Vec<SessionRow>),
}

impl SessionsState {
    pub fn from_result(result: Result<Vec<Comment>, String>) -> SessionsState {
        match result {
            Ok(comments) => SessionsState::Loaded(ticket_sessions::sessions(&comments)),
            Err(_) => SessionsState::Failed,
        }
    }
}

/// Where the host delivers a ticket's comments (or why it could not read them).
pub type CommentsReply = Callback<Result<Vec<Comment>, String>>;

/// What the host does for the API-mode card and the sessions list.
#[derive(Clone, PartialEq)]
pub struct SidebarApi {
    /// Whether API mode is on (`api_session_keys`): the card replaces the console button.
    /// Asked when the ready sidebar renders, i.e. once the settings are loaded.
    pub api_keys: Callback<(), bool>,
    /// Generates a key for the ticket; the answer goes to the given callback.
    pub generate: Callback<(u64, Callback<Result<SessionKey, KeyFailure>>)>,
    /// Copies text to the clipboard; reports success.
    pub copy: Callback<(String, Callback<bool>)>,
    /// `ticket.comment.appendText`; reports success.
    pub insert: Callback<(String, Callback<bool>)>,
    /// Reads every comment of the ticket (all pages).
    pub load_comments: Callback<(u64, CommentsReply)>,
    /// The link that opens one comment: (ticket, comment) → URL.
    pub comment_href: Callback<(u64, u64), String>,
    /// Now, unix seconds.
    pub now: Callback<(), i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(expires: i64) -> SessionKey {
        SessionKey {
            short_key: "1234567".into(),
            key_url: "https://bt.example.com/?ak=x".into(),
            expires,
        }
    }

    fn row(when: &str) -> SessionRow {
        SessionRow {
            appliance: "a".into(),
            lsid: "l".into(),
            when: when.into(),
            rep: None,
            duration_secs: None,
            survey: None,
            comment_id: 1,
            ended: true,
        }
    }

    #[test]
    fn generate_show_tick_expire() {
        let p = KeyPanel::default().apply(KeyAction::Generate);
        assert_eq!(p.status, KeyStatus::Generating);
        assert_eq!(p.apply(KeyAction::Generate), p);
        let p = p.apply(KeyAction::Generated {
            key: key(1000),
            now: 900,
        });
        assert_eq!(p.status, KeyStatus::Shown(key(1000)));
        let p = p
            .apply(KeyAction::Done(Done::Copied))
            .apply(KeyAction::Tick(999));
        assert_eq!(p.done, Some(Done::Copied));
        assert!(matches!(p.status, KeyStatus::Shown(_)));
        let p = p.apply(KeyAction::Tick(1000));
        assert_eq!(p.status, KeyStatus::Failed(KeyFailure::Expired));
        assert_eq!(p.done, None);
        // A key already expired on arrival (clock skew) is not shown.
        let p = KeyPanel::default().apply(KeyAction::Generated {
            key: key(10),
            now: 10,
        });
        assert_eq!(p.status, KeyStatus::Failed(KeyFailure::Expired));
    }

    #[test]
    fn failure_then_retry() {
        let p = KeyPanel::default()
            .apply(KeyAction::Generate)
            .apply(KeyAction::Failed(KeyFailure::Unreachable));
        assert_eq!(p.status, KeyStatus::Failed(KeyFailure::Unreachable));
        assert_eq!(p.apply(KeyAction::Generate).status, KeyStatus::Generating);
    }

    #[test]
    fn issued_keys_wait_until_a_later_session_appears_or_they_expire() {
        // 2026-11-24T16:27:03Z = 1795537623
        let p = KeyPanel::default().apply(KeyAction::Generated {
            key: key(1_795_541_000),
            now: 1_795_537_000,
        });
        assert_eq!(p.waiting().len(), 1);
        let with = |rows| p.apply(KeyAction::Sessions(SessionsState::Loaded(rows)));
        assert_eq!(
            with(vec![row("2026-11-24T10:00:00Z")]).waiting().len(),
            1,
            "an older session is not this key's"
        );
        assert!(with(vec![row("2026-11-24T16:27:03Z")]).waiting().is_empty());
        assert!(p.apply(KeyAction::Tick(1_795_541_000)).waiting().is_empty());
    }

    #[test]
    fn sessions_state_from_comments() {
        assert_eq!(
            SessionsState::from_result(Err("x".into())),
            SessionsState::Failed
        );
        assert_eq!(
            SessionsState::from_result(Ok(vec![])),
            SessionsState::Loaded(vec![])
        );
    }
}
