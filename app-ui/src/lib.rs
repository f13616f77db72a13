//! Yew components of the ticket sidebar. They take plain data (settings, ticket, locale) and
//! callbacks, so they run the same under the real Zendesk client, a fake, or a test.
//!
//! State lives in reducers (`state`, `jump_form`) that are plain Rust and tested natively; the
//! host (the `zendesk-app` crate) owns the sidebar reducer and feeds it what Zendesk says.

pub mod i18n;
pub mod jump_form;
pub mod key_panel;
pub mod state;

pub mod api_sections;
pub mod fields;
pub mod help_center_dialog;
pub mod invalid_view;
pub mod jump_panel;
pub mod launch_notice;
pub mod message_view;
pub mod ready_view;
pub mod session_key_button;
pub mod session_key_card;
pub mod sidebar_view;
pub mod ticket_sessions;

pub use i18n::I18n;
pub use key_panel::SidebarApi;
pub use launch_notice::{launch_page, LaunchOutcome, GUIDANCE_AFTER_MS};
pub use sidebar_view::SidebarView;
pub use state::{Loaded, Phase, Sidebar, SidebarAction};
