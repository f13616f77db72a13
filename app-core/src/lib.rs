//! Pure logic shared by the Zendesk sidebar app (compiled to wasm) and the middleware (native).
//!
//! Nothing here touches the network, the DOM or the Zendesk App Framework, so every rule can be
//! unit-tested natively.

pub mod external_key;
pub mod help_center;
pub mod jump;
pub mod jump_type;
pub mod marker;
pub mod session_key_api;
pub mod settings;
pub mod ticket_sessions;
pub mod urls;
