//! The middleware: BeyondTrust outbound events in, Zendesk private comments out.

pub mod beyondtrust;
pub mod config;
pub mod secret;
pub mod render;
pub mod store;
