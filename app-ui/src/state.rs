//! The sidebar's state machine, as a Yew reducer (the host owns it with `use_reducer`).
//!
//! Loading → (settings invalid) Invalid | (no ticket id yet) NotSaved | Ready; NotSaved → Ready
//! when the ticket is saved. Invalid settings win over "not saved": the admin must fix them
//! either way, and the agent learns why the buttons are missing.

use app_core::settings::{Settings, SettingsError};
use std::rc::Rc;
use yew::Reducible;

use crate::i18n::I18n;

/// What the sidebar shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Waiting for Zendesk (settings, ticket, user).
    Loading,
    /// A new ticket: nothing can be tied to it until it has an id.
    NotSaved,
    /// The settings have problems; all of them are listed.
    Invalid(Vec<SettingsError>),
    /// Buttons and the Jump panel, for this ticket.
    Ready { ticket_id: u64 },
    /// Zendesk did not answer as expected.
    Failed,
}

/// Everything the host learned from Zendesk when the app started.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub settings: Result<Settings, Vec<SettingsError>>,
    /// `None` on a new, unsaved ticket.
    pub ticket_id: Option<u64>,
    /// The agent's Zendesk locale (`currentUser.locale`).
    pub locale: String,
    /// `currentUser.role == "admin"`: admins get the Help Center instructions.
    pub is_admin: bool,
}

/// Events that change the sidebar.
#[derive(Debug, Clone, PartialEq)]
pub enum SidebarAction {
    Loaded(Loaded),
    /// `ticket.saved` in the new-ticket sidebar, with the ticket's new id.
    TicketSaved {
        ticket_id: u64,
    },
    /// Reading from Zendesk failed (the detail goes to the console, not the agent).
    LoadFailed,
}

/// The reducer's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Sidebar {
    pub phase: Phase,
    /// Present once valid settings are loaded.
    pub settings: Option<Rc<Settings>>,
    pub i18n: I18n,
    pub is_admin: bool,
}

impl Default for Sidebar {
    fn default() -> Sidebar {
        Sidebar {
            phase: Phase::Loading,
            settings: None,
            i18n: I18n::for_locale(""),
            is_admin: false,
        }
    }
}

impl Sidebar {
    /// A pure transition (what `Reducible::reduce` applies).
    pub fn apply(&self, action: SidebarAction) -> Sidebar {
        match action {
            SidebarAction::Loaded(loaded) => {
                let i18n = I18n::for_locale(&loaded.locale);
                let (phase, settings) = match loaded.settings {
                    Err(problems) => (Phase::Invalid(problems), None),
                    Ok(settings) => match loaded.ticket_id {
                        Some(ticket_id) => (Phase::Ready { ticket_id }, Some(Rc::new(settings))),
                        None => (Phase::NotSaved, Some(Rc::new(settings))),
                    },
                };
                Sidebar {
                    phase,
                    settings,
                    i18n,
                    is_admin: loaded.is_admin,
                }
            }
            SidebarAction::TicketSaved { ticket_id } if self.phase == Phase::NotSaved => Sidebar {
                phase: Phase::Ready { ticket_id },
                ..self.clone()
            },
            SidebarAction::TicketSaved { .. } => self.clone(),
            SidebarAction::LoadFailed => Sidebar {
                phase: Phase::Failed,
                settings: None,
                ..self.clone()
            },
        }
    }
}

impl Reducible for Sidebar {
    type Action = SidebarAction;

    fn reduce(self: Rc<Self>, action: SidebarAction) -> Rc<Self> {
        Rc::new(self.apply(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::jump_type::JumpType;

    fn settings() -> Settings {
        Settings {
            hostname: "bt.example.com".into(),
            issues: vec![],
            jumpoints: vec![],
            jump_types: vec![JumpType::JumpClient],
        }
    }

    fn loaded(
        settings: Result<Settings, Vec<SettingsError>>,
        ticket_id: Option<u64>,
    ) -> SidebarAction {
        SidebarAction::Loaded(Loaded {
            settings,
            ticket_id,
            locale: "de-DE".into(),
            is_admin: true,
        })
    }

    #[test]
    fn starts_loading_in_english() {
        let s = Sidebar::default();
        assert_eq!(s.phase, Phase::Loading);
        assert_eq!(s.i18n.locale(), "en");
    }

    #[test]
    fn loaded_with_ticket_is_ready_in_the_agents_locale() {
        let s = Sidebar::default().apply(loaded(Ok(settings()), Some(12)));
        assert_eq!(s.phase, Phase::Ready { ticket_id: 12 });
        assert_eq!(s.settings.as_deref(), Some(&settings()));
        assert_eq!(s.i18n.locale(), "de");
        assert!(s.is_admin);
    }

    #[test]
    fn new_ticket_waits_for_save() {
        let s = Sidebar::default().apply(loaded(Ok(settings()), None));
        assert_eq!(s.phase, Phase::NotSaved);
        let s = s.apply(SidebarAction::TicketSaved { ticket_id: 99 });
        assert_eq!(s.phase, Phase::Ready { ticket_id: 99 });
        // A later save of the same ticket changes nothing.
        assert_eq!(
            s.apply(SidebarAction::TicketSaved { ticket_id: 5 }).phase,
            Phase::Ready { ticket_id: 99 }
        );
    }

    #[test]
    fn invalid_settings_win_and_stay() {
        let problems = vec![
            SettingsError::HostnameMissing,
            SettingsError::IssueLineMalformed { line: 2 },
        ];
        let s = Sidebar::default().apply(loaded(Err(problems.clone()), None));
        assert_eq!(s.phase, Phase::Invalid(problems.clone()));
        assert!(s.settings.is_none());
        assert_eq!(
            s.apply(SidebarAction::TicketSaved { ticket_id: 1 }).phase,
            Phase::Invalid(problems)
        );
    }

    #[test]
    fn failure_is_a_phase() {
        let s = Rc::new(Sidebar::default()).reduce(SidebarAction::LoadFailed);
        assert_eq!(s.phase, Phase::Failed);
    }
}
