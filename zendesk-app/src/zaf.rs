//! What the sidebar needs from the Zendesk App Framework, as a trait: the real binding
//! (`zaf_js`) talks to the `ZAFClient` global, a fake stands in for it in tests.
//!
//! Methods return futures *without* being `async fn`, so an implementation can start its request
//! when called: the loader asks for everything first and then awaits, which sends the requests to
//! Zendesk in parallel.

use app_core::settings::{Settings, SettingsError};
use std::future::Future;

/// The app's location: `ticket_sidebar` or `new_ticket_sidebar` (from `client.context()`).
pub const NEW_TICKET_SIDEBAR: &str = "new_ticket_sidebar";
/// The location of a modal instance the sidebar opened (`instances.create`).
pub const MODAL: &str = "modal";
/// The page of the Customize Help Center modal, relative to the app's root.
pub const HELP_CENTER_MODAL_URL: &str = "assets/modal.html";

/// A ZAF request failed or answered something unexpected. Logged, never shown verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZafError(pub String);

/// `currentUser`, the parts the sidebar uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// `admin`, `agent`, or a custom role name.
    pub role: String,
    /// The agent's Zendesk locale, e.g. `en-US`.
    pub locale: String,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

/// Parsed app settings: Zendesk answered, but the settings themselves may be invalid.
pub type SettingsResult = Result<Settings, Vec<SettingsError>>;

/// The ZAF client, reduced to what the sidebar uses.
pub trait ZafClient {
    /// `client.context().location`.
    fn location(&self) -> impl Future<Output = Result<String, ZafError>>;
    /// `client.metadata().settings`, parsed.
    fn settings(&self) -> impl Future<Output = Result<SettingsResult, ZafError>>;
    /// `client.get('ticket.id')`: `None` while the ticket is new.
    fn ticket_id(&self) -> impl Future<Output = Result<Option<u64>, ZafError>>;
    /// `client.get('currentUser')`.
    fn current_user(&self) -> impl Future<Output = Result<CurrentUser, ZafError>>;
    /// `client.on(event, handler)`.
    fn on(&self, event: &str, handler: Box<dyn Fn()>);
    /// `client.invoke('resize', {width: '100%', height: '<height>px'})`.
    fn resize(&self, height_px: u32);
    /// `client.invoke('instances.create', {location: 'modal', url, size})`: Zendesk opens `url`
    /// as a modal dialog over the agent's page.
    fn open_modal(&self, url: &str, width_px: u32, height_px: u32);
    /// `client.invoke('destroy')`: closes this (modal) instance.
    fn destroy(&self);
}
