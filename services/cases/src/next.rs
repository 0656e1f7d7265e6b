//! What a case needs next, and who does it: the one answer every page draws from (the champion's
//! "next action", the form a case page leads with), worked out from the case's state alone.

use crate::{CaseStatus, Role};

/// What is known of a case that decides its next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    pub status: CaseStatus,
    /// At least one root cause is recorded.
    pub root_cause_known: bool,
    /// The DHU's latest look since the last remap fell short: (visible, required) a day.
    pub dhu_shortfall: Option<(i64, i64)>,
    /// The DHU reported a visibility problem that is still open.
    pub open_dhu_issue: bool,
}

/// The step that moves a case on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// A champion to contact the practice.
    Contact,
    /// A champion to find and record why the slots are invisible.
    FindRootCause,
    /// A champion to have the set-up fixed and record the remap.
    Remap,
    /// The DHU saw fewer than required after the remap: a champion to find what is still hidden.
    RemapAfterShortfall { visible: i64, required: i64 },
    /// The DHU reported a problem after the remap: a champion to check and remap.
    RemapAfterIssue,
    /// The DHU to check what it can see.
    DhuCheck,
    /// The ICB to decide on compliance.
    IcbDecision,
    /// Compliant: the ICB may close it.
    Close,
    /// Closed: nothing.
    Nothing,
}

impl NextStep {
    /// The step `case` needs.
    pub fn of(case: &CaseFacts) -> Self {
        match case.status {
            CaseStatus::Flagged => NextStep::Contact,
            CaseStatus::Contacted if !case.root_cause_known => NextStep::FindRootCause,
            CaseStatus::Contacted => NextStep::Remap,
            CaseStatus::Remapped => match case.dhu_shortfall {
                Some((visible, required)) => NextStep::RemapAfterShortfall { visible, required },
                None if case.open_dhu_issue => NextStep::RemapAfterIssue,
                None => NextStep::DhuCheck,
            },
            CaseStatus::DhuConfirmed => NextStep::IcbDecision,
            CaseStatus::Compliant => NextStep::Close,
            CaseStatus::Closed => NextStep::Nothing,
        }
    }

    /// Whose step it is (`None`: nobody's).
    pub fn who(self) -> Option<Role> {
        match self {
            NextStep::Contact
            | NextStep::FindRootCause
            | NextStep::Remap
            | NextStep::RemapAfterShortfall { .. }
            | NextStep::RemapAfterIssue => Some(Role::Champion),
            NextStep::DhuCheck => Some(Role::Dhu),
            NextStep::IcbDecision | NextStep::Close => Some(Role::Icb),
            NextStep::Nothing => None,
        }
    }

    /// The step in a champion's words: what they do, or what they wait for.
    pub fn for_champion(self) -> String {
        match self {
            NextStep::Contact => "Contact the practice".into(),
            NextStep::FindRootCause => "Find and record the root cause".into(),
            NextStep::Remap => "Fix the set-up and record the remap".into(),
            NextStep::RemapAfterShortfall { visible, required } => {
                format!("DHU sees {visible} of {required} required: find what is still hidden and remap")
            }
            NextStep::RemapAfterIssue => "DHU reported an issue: check and remap".into(),
            NextStep::DhuCheck => "Wait for DHU to confirm what it can see".into(),
            NextStep::IcbDecision => "Wait for the ICB to confirm compliance".into(),
            NextStep::Close => "None: compliant".into(),
            NextStep::Nothing => "None: closed".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: CaseStatus) -> CaseFacts {
        CaseFacts {
            status,
            root_cause_known: false,
            dhu_shortfall: None,
            open_dhu_issue: false,
        }
    }

    #[test]
    fn each_status_has_one_next_step_and_one_party_to_take_it() {
        assert_eq!(NextStep::of(&facts(CaseStatus::Flagged)), NextStep::Contact);
        assert_eq!(NextStep::of(&facts(CaseStatus::Contacted)), NextStep::FindRootCause);
        let known = CaseFacts {
            root_cause_known: true,
            ..facts(CaseStatus::Contacted)
        };
        assert_eq!(NextStep::of(&known), NextStep::Remap);
        assert_eq!(NextStep::of(&facts(CaseStatus::Remapped)).who(), Some(Role::Dhu));
        let short = CaseFacts {
            dhu_shortfall: Some((2, 4)),
            ..facts(CaseStatus::Remapped)
        };
        assert_eq!(NextStep::of(&short).who(), Some(Role::Champion));
        assert!(
            NextStep::of(&short)
                .for_champion()
                .starts_with("DHU sees 2 of 4 required")
        );
        let issue = CaseFacts {
            open_dhu_issue: true,
            ..facts(CaseStatus::Remapped)
        };
        assert_eq!(NextStep::of(&issue), NextStep::RemapAfterIssue);
        assert_eq!(NextStep::of(&facts(CaseStatus::DhuConfirmed)).who(), Some(Role::Icb));
        assert_eq!(NextStep::of(&facts(CaseStatus::Compliant)), NextStep::Close);
        assert_eq!(NextStep::of(&facts(CaseStatus::Closed)).who(), None);
    }
}
