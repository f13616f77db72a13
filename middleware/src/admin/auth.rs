//! Who may use the admin: a login session (random cookie, in memory) or HTTP Basic `admin` for
//! scripts. Every state-changing request must come from the admin's own origin (CSRF), and
//! failed passwords are slowed down and capped per minute so guessing is impractical.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use serde::Deserialize;

use super::{pages, AdminState};
use crate::secret::Secret;

pub const COOKIE: &str = "mw_admin_session";
/// User name accepted with HTTP Basic.
pub const BASIC_USER: &str = "admin";
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Added to every wrong-password answer.
const FAILURE_DELAY: Duration = Duration::from_millis(300);
/// Wrong passwords accepted per minute (all clients together) before logins pause.
const MAX_FAILURES_PER_MINUTE: u32 = 20;

pub struct Auth {
    password: Secret,
    sessions: Mutex<HashMap<String, Instant>>,
    failures: Mutex<(Instant, u32)>,
}

impl Auth {
    pub fn new(password: Secret) -> Self {
        Self {
            password,
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new((Instant::now(), 0)),
        }
    }

    fn password_ok(&self, candidate: &str) -> bool {
        constant_time_eq(candidate.as_bytes(), self.password.expose().as_bytes())
    }

    /// Starts a session; returns its token (256 random bits).
    fn start_session(&self) -> String {
        let token =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, expires| *expires > now);
        sessions.insert(token.clone(), now + SESSION_TTL);
        token
    }

    fn session_valid(&self, token: &str) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(token)
            .is_some_and(|expires| *expires > Instant::now())
    }

    fn end_session(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(token);
    }

    /// Too many wrong passwords this minute.
    fn locked(&self) -> bool {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if f.0.elapsed() >= Duration::from_secs(60) {
            *f = (Instant::now(), 0);
        }
        f.1 >= MAX_FAILURES_PER_MINUTE
    }

    async fn record_failure(&self) {
        {
            let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            f.1 = f.1.saturating_add(1);
        }
        tokio::time::sleep(FAILURE_DELAY).await;
    }
}

/// Compares without stopping at the first difference, so timing does not reveal a prefix.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    std::hint::black_box(diff) == 0
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// `Some(password)` when the request carries `Authorization: Basic admin:...`.
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    (user == BASIC_USER).then(|| password.to_string())
}

/// `scheme://authority/...` -> `authority`.
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// Whether the request's Origin (or else Referer) names this server. Without either header the
/// answer is `absent_ok`: browsers send Origin on cross-site posts, scripts send neither.
fn same_origin(headers: &HeaderMap, absent_ok: bool) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    match claimed {
        None => absent_ok,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(authority)
            .is_some_and(|a| a.eq_ignore_ascii_case(host)),
    }
}

fn is_api(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
}

fn unauthorized(api: bool) -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        "authentication required: log in, or use HTTP Basic with user admin\n",
    )
        .into_response();
    if api {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"middleware admin\""),
        );
    }
    r
}

fn too_many() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        "too many wrong passwords; wait a minute and try again\n",
    )
        .into_response()
}

/// Lets authenticated requests through; state-changing ones only from the same origin.
pub async fn require(State(state): State<Arc<AdminState>>, req: Request, next: Next) -> Response {
    let auth = &state.auth;
    let by_cookie = session_cookie(req.headers()).is_some_and(|t| auth.session_valid(&t));
    let by_basic = !by_cookie
        && match basic_password(req.headers()) {
            None => false,
            Some(_) if auth.locked() => return too_many(),
            Some(p) if auth.password_ok(&p) => true,
            Some(_) => {
                auth.record_failure().await;
                return (StatusCode::UNAUTHORIZED, "wrong password\n").into_response();
            }
        };
    if !by_cookie && !by_basic {
        return if req.method() == Method::GET && !is_api(&req) {
            Redirect::to("/login").into_response()
        } else {
            unauthorized(is_api(&req))
        };
    }
    let safe = req.method() == Method::GET || req.method() == Method::HEAD;
    // A browser session must prove the post comes from our own page; a script using Basic sends
    // no Origin, but if it does (a browser that cached Basic credentials) it must match too.
    if !safe && !same_origin(req.headers(), by_basic) {
        return (StatusCode::FORBIDDEN, "cross-origin request refused\n").into_response();
    }
    next.run(req).await
}

pub async fn login_page() -> Html<String> {
    Html(pages::login(None))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    password: String,
}

pub async fn login(
    State(state): State<Arc<AdminState>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers, true) {
        return (StatusCode::FORBIDDEN, "cross-origin request refused\n").into_response();
    }
    if state.auth.locked() {
        return too_many();
    }
    if !state.auth.password_ok(&form.password) {
        state.auth.record_failure().await;
        return (
            StatusCode::UNAUTHORIZED,
            Html(pages::login(Some("Wrong password."))),
        )
            .into_response();
    }
    let token = state.auth.start_session();
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_TTL.as_secs()
    );
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub async fn logout(State(state): State<Arc<AdminState>>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers) {
        state.auth.end_session(&token);
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("mw_admin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn same_origin_compares_authority_with_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:53231"));
        assert!(same_origin(&h, true) && !same_origin(&h, false));
        h.insert(
            header::REFERER,
            HeaderValue::from_static("http://127.0.0.1:53231/events?status=failed"),
        );
        assert!(same_origin(&h, false));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h, true), "Origin wins over Referer");
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h, true));
    }

    #[test]
    fn basic_needs_the_admin_user() {
        let mut h = HeaderMap::new();
        let enc = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&enc("admin:pw:with:colons")).unwrap(),
        );
        assert_eq!(basic_password(&h).as_deref(), Some("pw:with:colons"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&enc("root:pw")).unwrap(),
        );
        assert_eq!(basic_password(&h), None);
    }
}
