//! The Jump panel's form state, as a Yew reducer.
//!
//! Problems are not stored: they are derived from the input with `app_core::jump::validate`, and
//! shown once the agent has tried to launch (then they update live as the fields change).
//! Switching the Jump type shows problems only on fields the agent has edited: a field that
//! appears with the new type (a Jumpoint, a port) is not wrong before anybody touched it.

use app_core::jump::{validate, Field, JumpInput, JumpProblem, JumpRequest, ShellProtocol};
use app_core::jump_type::JumpType;
use app_core::settings::Settings;
use std::rc::Rc;
use yew::Reducible;

/// Field edits and the launch attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum JumpFormAction {
    SetType(JumpType),
    SetTarget(String),
    SetJumpoint(String),
    SetUsername(String),
    /// Also moves the port to the protocol's default if the agent had not changed it.
    SetProtocol(ShellProtocol),
    SetPort(String),
    /// The agent pressed Jump: from now on problems are shown.
    Attempted,
}

/// The form.
#[derive(Debug, Clone, PartialEq)]
pub struct JumpForm {
    pub settings: Rc<Settings>,
    pub input: JumpInput,
    /// Fields whose problems are shown: every field after a launch attempt; after a type
    /// switch only those the agent had edited.
    pub shown: Vec<Field>,
    /// Fields the agent has edited.
    pub touched: Vec<Field>,
}

const ALL_FIELDS: [Field; 4] = [Field::JumpType, Field::Target, Field::Jumpoint, Field::Port];

impl JumpForm {
    /// A fresh form: the first enabled type; the Jumpoint preselected only when there is just one.
    pub fn new(settings: Rc<Settings>) -> JumpForm {
        let jump_type = settings
            .jump_types
            .first()
            .copied()
            .unwrap_or(JumpType::JumpClient);
        let jumpoint = match settings.jumpoints.as_slice() {
            [only] => only.clone(),
            _ => String::new(),
        };
        let protocol = ShellProtocol::default();
        JumpForm {
            input: JumpInput {
                jump_type,
                target: String::new(),
                jumpoint,
                username: String::new(),
                protocol,
                port: protocol.default_port().to_string(),
            },
            settings,
            shown: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// The validated request, or every problem.
    pub fn result(&self) -> Result<JumpRequest, Vec<JumpProblem>> {
        validate(&self.input, &self.settings)
    }

    /// Problems to show now (none before the first attempt).
    pub fn visible_problems(&self) -> Vec<JumpProblem> {
        let mut problems = self.result().err().unwrap_or_default();
        problems.retain(|p| self.shown.contains(&p.field()));
        problems
    }

    fn touch(&mut self, field: Field) {
        if !self.touched.contains(&field) {
            self.touched.push(field);
        }
    }

    /// A pure transition.
    pub fn apply(&self, action: JumpFormAction) -> JumpForm {
        let mut next = self.clone();
        match action {
            JumpFormAction::SetType(t) => {
                if t != next.input.jump_type {
                    let touched = next.touched.clone();
                    next.shown.retain(|f| touched.contains(f));
                }
                next.input.jump_type = t;
            }
            JumpFormAction::SetTarget(v) => {
                next.input.target = v;
                next.touch(Field::Target);
            }
            JumpFormAction::SetJumpoint(v) => {
                next.input.jumpoint = v;
                next.touch(Field::Jumpoint);
            }
            JumpFormAction::SetUsername(v) => next.input.username = v,
            JumpFormAction::SetProtocol(p) => {
                let input = &mut next.input;
                if input.port.trim() == input.protocol.default_port().to_string() {
                    input.port = p.default_port().to_string();
                }
                input.protocol = p;
            }
            JumpFormAction::SetPort(v) => {
                next.input.port = v;
                next.touch(Field::Port);
            }
            JumpFormAction::Attempted => next.shown = ALL_FIELDS.to_vec(),
        }
        next
    }
}

impl Reducible for JumpForm {
    type Action = JumpFormAction;

    fn reduce(self: Rc<Self>, action: JumpFormAction) -> Rc<Self> {
        Rc::new(self.apply(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(jumpoints: &[&str]) -> Rc<Settings> {
        Rc::new(Settings {
            hostname: "bt.example.com".into(),
            issues: vec![],
            jumpoints: jumpoints.iter().map(|s| s.to_string()).collect(),
            jump_types: vec![JumpType::LocalJump, JumpType::ShellJump],
        })
    }

    #[test]
    fn starts_with_first_enabled_type_and_single_jumpoint() {
        let f = JumpForm::new(settings(&["Only"]));
        assert_eq!(f.input.jump_type, JumpType::LocalJump);
        assert_eq!(f.input.jumpoint, "Only");
        assert_eq!(f.input.port, "22");
        assert_eq!(JumpForm::new(settings(&["A", "B"])).input.jumpoint, "");
    }

    #[test]
    fn problems_show_after_an_attempt_and_update_live() {
        let f = JumpForm::new(settings(&["A", "B"]));
        assert!(f.visible_problems().is_empty());
        let f = f.apply(JumpFormAction::Attempted);
        assert_eq!(f.visible_problems(), vec![JumpProblem::TargetRequired]);
        let f = f
            .apply(JumpFormAction::SetType(JumpType::ShellJump))
            .apply(JumpFormAction::SetPort("0".into()));
        // After a type switch, problems wait for the next attempt.
        assert!(f.visible_problems().is_empty());
        let f = f.apply(JumpFormAction::Attempted);
        assert_eq!(
            f.visible_problems(),
            vec![
                JumpProblem::JumpointRequired,
                JumpProblem::TargetRequired,
                JumpProblem::PortInvalid
            ]
        );
        let f = f
            .apply(JumpFormAction::SetTarget("host-1".into()))
            .apply(JumpFormAction::SetJumpoint("B".into()))
            .apply(JumpFormAction::SetPort("2200".into()));
        assert!(f.visible_problems().is_empty());
        assert!(matches!(
            f.result(),
            Ok(JumpRequest::ShellJump { port: 2200, .. })
        ));
    }

    #[test]
    fn a_type_switch_shows_problems_only_on_edited_fields() {
        let f = JumpForm::new(settings(&["A", "B"]))
            .apply(JumpFormAction::SetTarget("x".into()))
            .apply(JumpFormAction::SetTarget(String::new()))
            .apply(JumpFormAction::Attempted);
        assert_eq!(f.visible_problems(), vec![JumpProblem::TargetRequired]);
        // Shell Jump brings a Jumpoint and a port nobody has touched: no error on them.
        let f = f.apply(JumpFormAction::SetType(JumpType::ShellJump));
        assert_eq!(f.visible_problems(), vec![JumpProblem::TargetRequired]);
        // Without an edit of the target, a switch shows nothing at all.
        let g = JumpForm::new(settings(&["A", "B"]))
            .apply(JumpFormAction::Attempted)
            .apply(JumpFormAction::SetType(JumpType::ShellJump));
        assert!(g.visible_problems().is_empty());
        // The next attempt shows everything again.
        assert_eq!(
            g.apply(JumpFormAction::Attempted).visible_problems(),
            vec![JumpProblem::JumpointRequired, JumpProblem::TargetRequired]
        );
        // Choosing the same type again changes nothing.
        let h = JumpForm::new(settings(&["A", "B"]))
            .apply(JumpFormAction::Attempted)
            .apply(JumpFormAction::SetType(JumpType::LocalJump));
        assert_eq!(h.visible_problems(), vec![JumpProblem::TargetRequired]);
    }

    #[test]
    fn protocol_switch_moves_only_a_default_port() {
        let f = JumpForm::new(settings(&["A"]))
            .apply(JumpFormAction::SetProtocol(ShellProtocol::Telnet));
        assert_eq!(f.input.port, "23");
        let f = f
            .apply(JumpFormAction::SetPort("2323".into()))
            .apply(JumpFormAction::SetProtocol(ShellProtocol::Ssh));
        assert_eq!(
            (f.input.port.as_str(), f.input.protocol),
            ("2323", ShellProtocol::Ssh)
        );
    }
}
