//! Faithful simulators of a BeyondTrust Remote Support appliance and a Zendesk instance.
//!
//! Nobody developing this project has a real appliance or Zendesk account at hand, so every
//! test and the demo run against these two loopback HTTP servers. They are deliberately strict:
//! parameters are validated the way the reference (`shared/reference/`) documents, errors come
//! back in the real shapes, and faults (failures, timeouts, dropped connections, outages) can be
//! planned from Rust ([`Faults`]) or over each server's `/_control/...` JSON API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sandbox::SandboxError> {
//! use std::time::Duration;
//! use sandbox::{Party, Sandbox, SandboxOptions, SessionSpec};
//!
//! let sb = Sandbox::start(SandboxOptions {
//!     events_url: Some("http://127.0.0.1:8180/ERSPost".into()),
//!     ..SandboxOptions::default()
//! })
//! .await?;
//! let ticket = sb.zendesk.create_ticket("Printer");
//! let lsid = sb.appliance.create_session(
//!     SessionSpec::default()
//!         .external_key(ticket.to_string())
//!         .chat(Party::REP, "Hello")
//!         .customer_survey([("rating", "5")]),
//! );
//! sb.appliance.end_session(&lsid); // queues support_conference_end, then the survey event
//! sb.appliance.wait_events_delivered(2, Duration::from_secs(10)).await?;
//! sb.zendesk.faults().fail_next(2, 503);
//! sb.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod appliance;
mod control;
mod error;
mod faults;
mod recorded;
mod server;
#[cfg(test)]
mod test_support;
mod tls;
pub mod workspace;
pub mod zendesk;

use std::time::Duration;

pub use appliance::{
    Appliance, Customer, DeliveredEvent, IssuedSessionKey, Load, Party, Rep, ScriptedEvent,
    SessionSpec, SurveyQuestion, SysInfoCategory, XmlNamespace,
};
pub use error::SandboxError;
pub use faults::Faults;
pub use recorded::RecordedCall;
pub use zendesk::{Attachment, Comment, CustomField, Ticket, Zendesk};

/// How to start a [`Sandbox`]. `Default` gives free ports, HTTPS on the appliance, both
/// authentication styles, one-hour tokens and Zendesk's Update Ticket limit (100/minute).
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Appliance port on 127.0.0.1; 0 picks a free one.
    pub appliance_port: u16,
    /// Zendesk port on 127.0.0.1; 0 picks a free one.
    pub zendesk_port: u16,
    /// Where the appliance POSTs outbound events; `None` keeps them queued.
    pub events_url: Option<String>,
    /// HTTPS with a self-signed certificate generated at start (true) or plain HTTP.
    pub appliance_tls: bool,
    /// "16.2.1 or newer": legacy `username`/`password` parameters are refused.
    pub oauth_only: bool,
    /// Lifetime of newly issued OAuth tokens.
    pub token_lifetime: Duration,
    /// Zendesk per-minute request budget.
    pub zendesk_rate_limit_per_minute: u32,
    /// Namespace of the appliance's XML answers (beyondtrust.com by default).
    pub xml_namespace: XmlNamespace,
    /// Pause before re-sending an outbound event that was not answered 200.
    pub event_retry_backoff: Duration,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            appliance_port: 0,
            zendesk_port: 0,
            events_url: None,
            appliance_tls: true,
            oauth_only: false,
            token_lifetime: Duration::from_secs(3600),
            zendesk_rate_limit_per_minute: 100,
            xml_namespace: XmlNamespace::BeyondTrust,
            event_retry_backoff: Duration::from_millis(200),
        }
    }
}

/// Both simulators, running. Dropping it without [`Sandbox::shutdown`] leaves the servers
/// running until the runtime stops.
pub struct Sandbox {
    pub appliance: Appliance,
    pub zendesk: Zendesk,
    appliance_server: server::ServerHandle,
    zendesk_server: server::ServerHandle,
}

impl Sandbox {
    /// Binds both servers on 127.0.0.1 and starts the appliance's outbound event worker.
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let (appliance, appliance_server) = appliance::start(&opts).await?;
        let (zendesk, zendesk_server) = zendesk::start(&opts).await?;
        Ok(Sandbox {
            appliance,
            zendesk,
            appliance_server,
            zendesk_server,
        })
    }

    /// Stops accepting, lets in-flight answers finish (briefly), stops the event worker.
    pub async fn shutdown(self) {
        self.appliance.stop_worker();
        tokio::join!(
            self.appliance_server.shutdown(),
            self.zendesk_server.shutdown()
        );
    }
}
