//! The five Jump types the sidebar can launch, and which of them go through a Jumpoint.

/// A BeyondTrust Jump type, in the order the settings page and the sidebar list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JumpType {
    /// Jump to a pinned Jump Client (`start_jump_item_session` with `jump.method=pinned`).
    JumpClient,
    /// Push and Start Local: a system on the representative's own network.
    LocalJump,
    /// Push and Start Remote: a system reached through a Jumpoint.
    RemoteJump,
    /// Remote Desktop Protocol through a Jumpoint.
    Rdp,
    /// Shell Jump (SSH/Telnet, "Remote Console") through a Jumpoint.
    ShellJump,
}

impl JumpType {
    /// Every type, in display order.
    pub const ALL: [JumpType; 5] = [
        JumpType::JumpClient,
        JumpType::LocalJump,
        JumpType::RemoteJump,
        JumpType::Rdp,
        JumpType::ShellJump,
    ];

    /// Remote Jump, RDP and Shell Jump are routed through a Jumpoint, so they need one configured.
    pub fn needs_jumpoint(self) -> bool {
        matches!(
            self,
            JumpType::RemoteJump | JumpType::Rdp | JumpType::ShellJump
        )
    }

    /// The manifest parameter (checkbox) that enables this type.
    pub fn setting_name(self) -> &'static str {
        match self {
            JumpType::JumpClient => "allow_jump_client",
            JumpType::LocalJump => "allow_local_jump",
            JumpType::RemoteJump => "allow_remote_jump",
            JumpType::Rdp => "allow_rdp",
            JumpType::ShellJump => "allow_shell_jump",
        }
    }

    /// The manifest default of the checkbox, used when Zendesk sends no value at all.
    pub fn enabled_by_default(self) -> bool {
        matches!(self, JumpType::JumpClient | JumpType::LocalJump)
    }

    /// A stable identifier (form values, translation keys, test selectors).
    pub fn id(self) -> &'static str {
        match self {
            JumpType::JumpClient => "jump_client",
            JumpType::LocalJump => "local_jump",
            JumpType::RemoteJump => "remote_jump",
            JumpType::Rdp => "rdp",
            JumpType::ShellJump => "shell_jump",
        }
    }

    /// The inverse of [`JumpType::id`].
    pub fn from_id(id: &str) -> Option<JumpType> {
        JumpType::ALL.into_iter().find(|t| t.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::JumpType;

    #[test]
    fn ids_round_trip_and_jumpoint_rule() {
        for t in JumpType::ALL {
            assert_eq!(JumpType::from_id(t.id()), Some(t));
            assert_eq!(t.needs_jumpoint(), !t.enabled_by_default(), "{t:?}");
        }
        assert_eq!(JumpType::from_id("nope"), None);
    }
}
