//! The BeyondTrust Remote Support appliance: API client and report parsing.

pub mod client;
pub mod model;
pub mod xml;

pub use client::{ApplianceClient, ApplianceError, SurveyKind};
pub use model::{ApiInfo, ExitSurvey, ReportError, Session, SessionEvent, SessionSummary};

#[cfg(test)]
mod fixture_tests;
