//! Who may use the admin: a login session (random cookie, in memory) or HTTP Basic `admin` for
//! scripts. Every state-changing request must come from the admin's own origin (CSRF), every
//! request must name the admin by an address that cannot be a rebound DNS name (see
//! [`host_allowed`]), and failed passwords are slowed down and capped per minute per client
//! address, so guessing is impractical and one guesser cannot lock the others out.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
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
/// Added to a client address's first wrong password; doubles with each further one that minute
/// (capped at [`MAX_FAILURE_DELAY`]).
const FAILURE_DELAY: Duration = Duration::from_millis(300);
const MAX_FAILURE_DELAY: Duration = Duration::from_secs(5);
/// Wrong passwords accepted per minute from one client address before its logins pause. Each
/// address has its own count, so a guesser cannot lock every admin out.
const MAX_FAILURES_PER_MINUTE: u32 = 20;
/// Addresses remembered at most (older windows are dropped first).
const MAX_TRACKED_ADDRESSES: usize = 10_000;

/// The peer address of the connection (absent when the server was started without connection
/// info, e.g. in router tests: those share one bucket).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(&parts.extensions)))
    }
}

fn client_ip(ext: &axum::http::Extensions) -> Option<IpAddr> {
    ext.get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

pub struct Auth {
    password: Secret,
    sessions: Mutex<HashMap<String, Instant>>,
    /// Per client address: start of its current minute and its wrong passwords in it.
    failures: Mutex<HashMap<Option<IpAddr>, (tokio::time::Instant, u32)>>,
}

impl Auth {
    pub fn new(password: Secret) -> Self {
        Self {
            password,
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
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

    /// Too many wrong passwords from this address this minute.
    fn locked(&self, from: Option<IpAddr>) -> bool {
        let f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        f.get(&from).is_some_and(|(start, n)| {
            start.elapsed() < Duration::from_secs(60) && *n >= MAX_FAILURES_PER_MINUTE
        })
    }

    /// Counts a wrong password from `from` and waits longer the more that address got wrong.
    async fn record_failure(&self, from: Option<IpAddr>) {
        let n = {
            let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            if f.len() >= MAX_TRACKED_ADDRESSES {
                f.retain(|_, (start, _)| start.elapsed() < Duration::from_secs(60));
            }
            let entry = f.entry(from).or_insert((tokio::time::Instant::now(), 0));
            if entry.0.elapsed() >= Duration::from_secs(60) {
                *entry = (tokio::time::Instant::now(), 0);
            }
            entry.1 = entry.1.saturating_add(1);
            entry.1
        };
        let delay = FAILURE_DELAY
            .saturating_mul(1 << (n - 1).min(8))
            .min(MAX_FAILURE_DELAY);
        tokio::time::sleep(delay).await;
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

/// Where the password is, for the hints of 401 answers.
const PASSWORD_HINT: &str = "The admin password is in MIDDLEWARE_ADMIN_PASSWORD (or the variable named by \
[server] admin_password_env) or else in the admin-password file next to the SQLite database; the log says which.";

/// An error for a person (an HTML page with the way on) or for a script (plain text).
fn refusal(status: StatusCode, api: bool, title: &str, message: &str) -> Response {
    if api {
        (status, format!("{message}\n")).into_response()
    } else {
        pages::error_page_with_login(status, title, message)
    }
}

fn unauthorized(api: bool) -> Response {
    let mut r = refusal(
        StatusCode::UNAUTHORIZED,
        api,
        "Log in",
        &format!(
            "Authentication required: log in (your session may have expired), or use HTTP Basic with user admin. {PASSWORD_HINT}"
        ),
    );
    if api {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"middleware admin\""),
        );
    }
    r
}

fn too_many(api: bool) -> Response {
    refusal(
        StatusCode::TOO_MANY_REQUESTS,
        api,
        "Too many wrong passwords",
        "Too many wrong passwords from your address; wait a minute and try again.",
    )
}

fn cross_origin(api: bool) -> Response {
    refusal(
        StatusCode::FORBIDDEN,
        api,
        "Refused",
        "Cross-origin request refused: changes are accepted only from the admin's own pages. Open the admin \
         at the address it listens on (e.g. http://127.0.0.1:53231/) and submit the form there.",
    )
}

/// Lets authenticated requests through; state-changing ones only from the same origin.
pub async fn require(State(state): State<Arc<AdminState>>, req: Request, next: Next) -> Response {
    let auth = &state.auth;
    let from = client_ip(req.extensions());
    let by_cookie = session_cookie(req.headers()).is_some_and(|t| auth.session_valid(&t));
    let by_basic = !by_cookie
        && match basic_password(req.headers()) {
            None => false,
            Some(_) if auth.locked(from) => return too_many(is_api(&req)),
            Some(p) if auth.password_ok(&p) => true,
            Some(_) => {
                auth.record_failure(from).await;
                return refusal(
                    StatusCode::UNAUTHORIZED,
                    is_api(&req),
                    "Wrong password",
                    &format!("Wrong password for user admin. {PASSWORD_HINT}"),
                );
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
        return cross_origin(is_api(&req));
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
    ClientAddr(from): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers, true) {
        return cross_origin(false);
    }
    if state.auth.locked(from) {
        return too_many(false);
    }
    if !state.auth.password_ok(&form.password) {
        state.auth.record_failure(from).await;
        return (
            StatusCode::UNAUTHORIZED,
            Html(pages::login(Some(&format!(
                "Wrong password. {PASSWORD_HINT}"
            )))),
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

/// Names the admin answers to. A DNS-rebinding page reaches the admin under the attacker's
/// domain name, so only IP literals, `localhost`, this machine's host name and the names the
/// operator configured (`admin_listen`, `events_public_url`) are accepted.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    names: Vec<String>,
}

impl AllowedHosts {
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        let mut names: Vec<String> = names
            .into_iter()
            .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        names.push("localhost".into());
        Self { names }
    }

    /// From the server settings: the host of `events_public_url` and this machine's name.
    pub fn for_server(server: &crate::config::ServerConfig) -> Self {
        let mut names = vec![super::view::machine_host_name()];
        if let Some(h) = server
            .events_public_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_string))
        {
            names.push(h);
        }
        Self::new(names)
    }
}

/// Whether a `Host` header value names this admin (port ignored).
pub fn host_allowed(host: &str, allowed: &AllowedHosts) -> bool {
    let host = host.trim();
    if host.is_empty() {
        return false;
    }
    // [v6]:port, v4:port, name:port
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, _)) => return ip.parse::<std::net::Ipv6Addr>().is_ok(),
            None => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    allowed.names.contains(&name) || name.ends_with(".localhost")
}

/// Refuses requests whose `Host` is not this admin's own address (DNS rebinding).
pub async fn check_host(
    State(state): State<Arc<AdminState>>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if host_allowed(host, &state.hosts) {
        return next.run(req).await;
    }
    tracing::warn!(host = %host.chars().take(100).collect::<String>(), "admin request for a foreign host name refused (DNS rebinding?)");
    pages::error_page(
        StatusCode::MISDIRECTED_REQUEST,
        "Wrong address",
        "This admin answers only to its own address: open it by IP address (e.g. http://127.0.0.1:53231/), \
         localhost or this machine's name.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn wrong_passwords_slow_and_pause_only_their_own_address() {
        let auth = Auth::new(Secret::new("pw"));
        let guesser = Some(IpAddr::from([203, 0, 113, 7]));
        let admin = Some(IpAddr::from([192, 0, 2, 1]));
        let mut delays = Vec::new();
        for _ in 0..3 {
            assert!(!auth.locked(guesser));
            let start = tokio::time::Instant::now();
            auth.record_failure(guesser).await;
            delays.push(start.elapsed());
        }
        assert_eq!(
            delays,
            [FAILURE_DELAY, FAILURE_DELAY * 2, FAILURE_DELAY * 4]
        );
        // Guessing in parallel does not escape the count.
        let auth = Arc::new(auth);
        let mut parallel = tokio::task::JoinSet::new();
        for _ in 3..MAX_FAILURES_PER_MINUTE {
            let auth = auth.clone();
            parallel.spawn(async move {
                let start = tokio::time::Instant::now();
                auth.record_failure(guesser).await;
                start.elapsed()
            });
        }
        let waits = parallel.join_all().await;
        assert!(waits.iter().all(|w| *w <= MAX_FAILURE_DELAY));
        assert!(waits.contains(&MAX_FAILURE_DELAY));
        assert!(auth.locked(guesser), "the guessing address pauses");
        assert!(!auth.locked(admin), "another address is not locked out");
        assert!(!auth.locked(None));
        let start = tokio::time::Instant::now();
        auth.record_failure(admin).await;
        assert_eq!(
            start.elapsed(),
            FAILURE_DELAY,
            "its own count starts at one"
        );
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(
            !auth.locked(guesser),
            "a minute later the address may try again"
        );
    }

    #[test]
    fn only_own_names_and_ip_literals_are_accepted_as_host() {
        let allowed = AllowedHosts::new(["mw.example.com".to_string()]);
        for ok in [
            "127.0.0.1:53231",
            "10.0.0.5",
            "[::1]:53231",
            "localhost:53231",
            "LOCALHOST",
            "mw.example.com:53231",
            "app.localhost:1",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "evil.example:53231",
            "rebind.attacker.test",
            "",
            "[::1",
            "127.0.0.1.evil.test",
            "mw.example.com.evil.test",
        ] {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
    }

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
