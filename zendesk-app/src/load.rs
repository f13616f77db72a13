//! Reads what the sidebar needs from Zendesk and turns it into the reducer's first action.

use app_ui::{Loaded, SidebarAction};

use crate::zaf::{ZafClient, ZafError, NEW_TICKET_SIDEBAR};

/// Settings, location, user and (outside the new-ticket sidebar) the ticket id, requested in
/// parallel. Any ZAF failure becomes `LoadFailed` (logged by the caller).
pub async fn load(client: &impl ZafClient) -> Result<SidebarAction, ZafError> {
    let (location, settings, user) = (client.location(), client.settings(), client.current_user());
    let ticket_id = client.ticket_id();
    let location = location.await?;
    let settings = settings.await?;
    let user = user.await?;
    // A new ticket has no id until it is saved, whatever `ticket.id` says meanwhile.
    let ticket_id = if location == NEW_TICKET_SIDEBAR {
        None
    } else {
        ticket_id.await?
    };
    Ok(SidebarAction::Loaded(Loaded {
        settings,
        ticket_id,
        locale: user.locale.clone(),
        is_admin: user.is_admin(),
    }))
}
