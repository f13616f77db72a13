//! `middleware check`: test every configuration's credentials and permissions.
//!
//! Appliance: a token (OAuth) and `get_api_info`, which must grant `perm_reporting_support=1`
//! and some command permission (not `deny`). Zendesk: `users/me` must be an authenticated agent
//! or admin (it also answers anonymous users, so a 200 alone proves nothing).

use std::time::Duration;

use crate::beyondtrust::ApplianceClient;
use crate::config::Configuration;
use crate::zendesk::{RateLimiter, ZendeskClient};

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
        Err(e) => report
            .failed
            .push(format!("BeyondTrust {}: {e}", cfg.beyondtrust.host)),
        Ok(client) => match client.api_info().await {
            Err(e) => report.failed.push(format!(
                "BeyondTrust {}: get_api_info failed: {e}",
                cfg.beyondtrust.host
            )),
            Ok(info) => {
                let version = info.api_version.clone().unwrap_or_else(|| "unknown".into());
                let mut ok = true;
                if info.permission("perm_reporting_support") != Some("1") {
                    ok = false;
                    report.failed.push(format!(
                        "BeyondTrust {}: the API account lacks reporting permission (perm_reporting_support is {:?}, needs 1)",
                        cfg.beyondtrust.host,
                        info.permission("perm_reporting_support").unwrap_or("absent")
                    ));
                }
                match info.permission("perm_command") {
                    Some("full_access") | Some("read_only") => {}
                    other => {
                        ok = false;
                        report.failed.push(format!(
                            "BeyondTrust {}: the API account lacks command permission (perm_command is {:?})",
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
            Err(e) => report.failed.push(format!("Zendesk {}: users/me failed: {e}", cfg.zendesk.url)),
            Ok(user) => match (user.id, user.role.as_deref()) {
                (Some(id), Some(role @ ("agent" | "admin"))) => {
                    report.passed.push(format!("Zendesk {}: signed in as user {id} ({role})", cfg.zendesk.url))
                }
                (None, _) => report
                    .failed
                    .push(format!("Zendesk {}: credentials not accepted (anonymous user); check username and token", cfg.zendesk.url)),
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
