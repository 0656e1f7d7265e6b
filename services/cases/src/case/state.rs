//! A case's state, folded from its events. Status is derived here, from the events, never set by
//! a command; `evolve` applies facts and checks nothing (the rules live in `decide`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::{CaseEvent, EventEnvelope, RemapChange, RootCause};
use crate::practice::PracticeDetails;
use crate::values::ShortText;

/// Ordered as a case moves through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseStatus {
    Flagged,
    Contacted,
    Remapped,
    DhuConfirmed,
    Compliant,
    Closed,
}

impl CaseStatus {
    /// Open until compliant or closed.
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Compliant | CaseStatus::Closed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Flagged => "FLAGGED",
            CaseStatus::Contacted => "CONTACTED",
            CaseStatus::Remapped => "REMAPPED",
            CaseStatus::DhuConfirmed => "DHU_CONFIRMED",
            CaseStatus::Compliant => "COMPLIANT",
            CaseStatus::Closed => "CLOSED",
        }
    }
}

impl std::fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the rules and the views need to know about one case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    /// `None` until the case is flagged.
    pub status: Option<CaseStatus>,
    pub practice: Option<PracticeDetails>,
    pub list_size: u32,
    pub required_slots: u32,
    /// Business time of the flag: no event of the case may be dated before it.
    pub created_at: Option<DateTime<Utc>>,
    /// Business time of the flag, or of the last reopen.
    pub opened_at: Option<DateTime<Utc>>,
    pub compliant_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub assigned_to: Option<ShortText>,
    pub root_causes: Vec<RootCause>,
    pub remap_changes: Vec<RemapChange>,
    pub open_dhu_issue: bool,
    /// The latest count of visible slots: flag, DHU confirmation, compliance or reopen.
    pub visible_slots: Option<u32>,
    /// How many events the case has applied.
    pub events: u64,
}

impl Case {
    pub fn exists(&self) -> bool {
        self.status.is_some()
    }

    /// The stream revision of the last event applied, as `expectedRevision` takes it.
    pub fn revision(&self) -> Option<u64> {
        self.events.checked_sub(1)
    }
}

pub fn evolve(mut case: Case, envelope: &EventEnvelope) -> Case {
    let at = envelope.occurred_at;
    case.events += 1;
    match &envelope.event {
        CaseEvent::PracticeFlagged(e) => {
            case.status = Some(CaseStatus::Flagged);
            case.practice = Some(e.practice.clone());
            case.list_size = e.list_size.get();
            case.required_slots = e.required_slots;
            case.visible_slots = Some(e.visible_slots.get());
            case.created_at = Some(at);
            case.opened_at = Some(at);
        }
        CaseEvent::CaseAssigned(e) => case.assigned_to = Some(e.champion_id.clone()),
        CaseEvent::PracticeContacted(_) => {
            if case.status == Some(CaseStatus::Flagged) {
                case.status = Some(CaseStatus::Contacted);
            }
        }
        CaseEvent::RootCauseIdentified(e) => {
            if !case.root_causes.contains(&e.cause) {
                case.root_causes.push(e.cause);
            }
        }
        CaseEvent::SlotsRemapped(e) => {
            for change in &e.changes {
                if !case.remap_changes.contains(change) {
                    case.remap_changes.push(*change);
                }
            }
            remapped(&mut case);
        }
        CaseEvent::GpConnectReEnabled(_) => remapped(&mut case),
        CaseEvent::DhuVisibilityConfirmed(e) => {
            if matches!(
                case.status,
                Some(CaseStatus::Flagged | CaseStatus::Contacted | CaseStatus::Remapped)
            ) {
                case.status = Some(CaseStatus::DhuConfirmed);
            }
            case.open_dhu_issue = false;
            case.visible_slots = Some(e.visible_slots_per_day.get());
        }
        CaseEvent::DhuVisibilityIssueReported(_) => case.open_dhu_issue = true,
        CaseEvent::ComplianceConfirmed(e) => {
            case.status = Some(CaseStatus::Compliant);
            case.compliant_at = Some(at);
            case.open_dhu_issue = false;
            case.visible_slots = Some(e.visible_slots_per_day.get());
        }
        CaseEvent::CaseClosed(_) => {
            case.status = Some(CaseStatus::Closed);
            case.closed_at = Some(at);
        }
        CaseEvent::CaseReopened(e) => {
            case.status = Some(CaseStatus::Flagged);
            case.opened_at = Some(at);
            case.compliant_at = None;
            case.closed_at = None;
            case.open_dhu_issue = false;
            if let Some(visible) = e.visible_slots {
                case.visible_slots = Some(visible.get());
            }
        }
        CaseEvent::GuidanceShared(_)
        | CaseEvent::NoteAdded(_)
        | CaseEvent::EscalatedToContractReview(_)
        | CaseEvent::SlotsObserved(_) => {}
    }
    case
}

/// A remap or GP Connect re-enabled moves an early case on, and answers an open DHU issue.
fn remapped(case: &mut Case) {
    if matches!(case.status, Some(CaseStatus::Flagged | CaseStatus::Contacted)) {
        case.status = Some(CaseStatus::Remapped);
    }
    case.open_dhu_issue = false;
}
