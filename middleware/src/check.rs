//! `middleware check`: test every configuration's credentials and permissions.
//!
//! Appliance: a token (OAuth) and `get_api_info`, which must grant `perm_reporting_support=1`
//! and some command permission (not `deny`). Zendesk: `users/me` must be an authenticated agent
//! or admin (it also answers anonymous users, so a 200 alone proves nothing).

use std::time::Duration;

use crate::beyondtrust::{ApplianceClient, ApplianceError};
use crate::config::{ApplianceAuth, BeyondTrustConfig, Configuration};
use crate::zendesk::{RateLimiter, ZendeskClient, ZendeskError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub configuration: String,
    /// One line per successful check.
    pub passed: Vec<String>,
    /// One line per failed check; empty when everything works.
    pub failed: Vec<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
    }
}

pub async fn check_configuration(cfg: &Configuration, timeout: Duration) -> CheckReport {
    let mut report = CheckReport {
        configuration: cfg.name.clone(),
        passed: Vec::new(),
        failed: Vec::new(),
    };
    match ApplianceClient::new(&cfg.beyondtrust, timeout) {
        Err(e) => report.failed.push(format!(
            "BeyondTrust {}: {}",
            cfg.beyondtrust.host,
            explain_appliance(&e, &cfg.beyondtrust)
        )),
        Ok(client) => match client.api_info().await {
            Err(e) => report.failed.push(format!(
                "BeyondTrust {}: {}",
                cfg.beyondtrust.host,
                explain_appliance(&e, &cfg.beyondtrust)
            )),
            Ok(info) => {
                let version = info.api_version.clone().unwrap_or_else(|| "unknown".into());
                let mut ok = true;
                if info.permission("perm_reporting_support") != Some("1") {
                    ok = false;
                    report.failed.push(format!(
                        "BeyondTrust {}: the API account lacks Reporting API access to support sessions (perm_reporting_support is {:?}, needs 1); in /login > Management > API Configuration allow access to Support Session Reports and Recordings",
                        cfg.beyondtrust.host,
                        info.permission("perm_reporting_support").unwrap_or("absent")
                    ));
                }
                match info.permission("perm_command") {
                    Some("full_access") | Some("read_only") => {}
                    other => {
                        ok = false;
                        report.failed.push(format!(
                            "BeyondTrust {}: the API account lacks Command API access (perm_command is {:?}); in /login > Management > API Configuration give the Command API full or read-only access",
                            cfg.beyondtrust.host,
                            other.unwrap_or("absent")
                        ));
                    }
                }
                if ok {
                    report.passed.push(format!(
                        "BeyondTrust {}: API {version}, permissions OK",
                        cfg.beyondtrust.host
                    ));
                }
            }
        },
    }
    let limiter = std::sync::Arc::new(RateLimiter::new(cfg.zendesk.update_rate_per_minute));
    match ZendeskClient::new(&cfg.zendesk, limiter, timeout) {
        Err(e) => report.failed.push(format!("Zendesk {}: {e}", cfg.zendesk.url)),
        Ok(client) => match client.me().await {
            Err(e) => report.failed.push(format!("Zendesk {}: {}", cfg.zendesk.url, explain_zendesk(&e, &cfg.zendesk.url))),
            Ok(user) => match (user.id, user.role.as_deref()) {
                (Some(id), Some(role @ ("agent" | "admin"))) => {
                    report.passed.push(format!("Zendesk {}: signed in as user {id} ({role})", cfg.zendesk.url))
                }
                (None, _) => report
                    .failed
                    .push(format!("Zendesk {}: the Zendesk user or API token was refused (answered as an anonymous user); check the user's email and the API token (Admin Center > Apps and integrations > Zendesk API, token access enabled)", cfg.zendesk.url)),
                (Some(id), role) => report.failed.push(format!(
                    "Zendesk {}: user {id} has role {:?}; an agent or admin is needed",
                    cfg.zendesk.url,
                    role.unwrap_or("none")
                )),
            },
        },
    }
    report
}

/// What a transport failure means for an admin: refused, unresolvable, untrusted, silent.
fn explain_transport(message: &str, host: &str, allow_invalid: Option<bool>) -> String {
    let m = message.to_ascii_lowercase();
    let why = if m.contains("certificate") || m.contains("unknownissuer") || m.contains("tls") {
        match allow_invalid {
            Some(false) => format!("the TLS certificate of {host} is not trusted; install a certificate from a trusted authority on it, or (test appliances only) tick \"Allow invalid certificates\""),
            _ => format!("the TLS certificate of {host} is not trusted"),
        }
    } else if m.contains("connection refused") {
        format!("connection refused by {host}: nothing listens there; check the host and port and that this server may reach it")
    } else if m.contains("dns") || m.contains("lookup") || m.contains("resolve") {
        format!("the host name {host} could not be resolved; check its spelling")
    } else if m.contains("timed out") {
        format!("no answer from {host} in time; check the host, port and firewalls")
    } else {
        format!("{host} could not be reached")
    };
    format!("{why} ({message})")
}

/// An appliance failure in words an admin can act on (the raw reason follows in parentheses).
pub fn explain_appliance(e: &ApplianceError, bt: &BeyondTrustConfig) -> String {
    let oauth = matches!(bt.auth, ApplianceAuth::OAuth { .. });
    match e {
        ApplianceError::Transport(m) => {
            explain_transport(m, &bt.host, Some(bt.allow_invalid_certificates))
        }
        ApplianceError::Auth(m) if m.contains("403") => format!(
            "the API account lacks Reporting API access; in /login > Management > API Configuration allow it \
             Support Session Reports and the Command API ({m})"
        ),
        ApplianceError::Auth(m) if oauth && m.starts_with("token request") => format!(
            "the OAuth client secret was refused (or the client id is unknown); copy both again from \
             /login > Management > API Configuration ({m})"
        ),
        ApplianceError::Auth(m) if oauth => {
            format!("the appliance refused the API account's token ({m})")
        }
        ApplianceError::Auth(m) => format!(
            "the user name or password was refused; check the API user in /login > Users & Security > Users ({m})"
        ),
        ApplianceError::Status(404) => format!(
            "{} answered 404: no BeyondTrust API there; check that the host is the appliance's",
            bt.host
        ),
        ApplianceError::Status(s) if *s >= 500 => {
            format!("the appliance failed (HTTP {s}); try again later")
        }
        other => other.to_string(),
    }
}

/// A Zendesk failure in words an admin can act on.
pub fn explain_zendesk(e: &ZendeskError, url: &str) -> String {
    match e {
        ZendeskError::Permanent {
            status: 401,
            message,
        } => format!(
            "the Zendesk user or API token was refused; check the user's email and the API token \
             (Admin Center > Apps and integrations > Zendesk API, token access enabled) ({message})"
        ),
        ZendeskError::Permanent {
            status: 403,
            message,
        } => format!(
            "the Zendesk user is not allowed to use the API; use an agent or admin ({message})"
        ),
        ZendeskError::Permanent {
            status: 404,
            message,
        } => format!(
            "no Zendesk API at this URL; expected https://SUBDOMAIN.zendesk.com ({message})"
        ),
        ZendeskError::Transient { message, .. } => explain_transport(message, url, None),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn bt(oauth: bool) -> BeyondTrustConfig {
        BeyondTrustConfig {
            host: "bt.example.com".into(),
            auth: if oauth {
                ApplianceAuth::OAuth {
                    client_id: "id".into(),
                    client_secret: Secret::new("s"),
                }
            } else {
                ApplianceAuth::Legacy {
                    username: "api".into(),
                    password: Secret::new("p"),
                }
            },
            locale: "en-us".into(),
            allow_invalid_certificates: false,
            use_non_tls: false,
            outbound_event_types: vec![],
            polling_event_types: vec![],
            polling_interval_secs: 60,
            retry_attempt_limit: Some(5),
            retry_for_hours: 24,
            ca_file: None,
            retry_outbound_event_types: vec![],
            retry_polling_event_types: vec![],
        }
    }

    #[test]
    fn failures_are_explained_in_words_an_admin_can_act_on() {
        let forbidden = ApplianceError::Auth("API call answered HTTP 403 (permissions?)".into());
        assert!(explain_appliance(&forbidden, &bt(true))
            .starts_with("the API account lacks Reporting API access"));
        let refused = ApplianceError::Auth("token request answered HTTP 401".into());
        assert!(explain_appliance(&refused, &bt(true))
            .starts_with("the OAuth client secret was refused"));
        let legacy = ApplianceError::Auth("API call answered HTTP 401".into());
        assert!(explain_appliance(&legacy, &bt(false))
            .starts_with("the user name or password was refused"));
        let cert = ApplianceError::Transport(
            "connection failed: invalid peer certificate: UnknownIssuer".into(),
        );
        assert!(explain_appliance(&cert, &bt(true))
            .contains("certificate of bt.example.com is not trusted"));
        let dns = ApplianceError::Transport(
            "connection failed: dns error: failed to lookup address".into(),
        );
        assert!(explain_appliance(&dns, &bt(true)).contains("could not be resolved"));
        let zd = ZendeskError::Permanent {
            status: 401,
            message: "Couldn't authenticate you".into(),
        };
        assert!(explain_zendesk(&zd, "https://x.zendesk.com")
            .starts_with("the Zendesk user or API token was refused"));
    }
}
