//! A case's state, folded from its events. Status is derived here, from the events, never set by
//! a command; `evolve` applies facts and checks nothing (the rules live in `decide`).
//!
//! A case is folded from its own stream, and for deciding also from its contract review's stream
//! and its practice's observations: those tell the rules whether a review is open and what the
//! requirement was on a given day. Only the case's own events count towards its revision.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::event::{CaseEvent, EventEnvelope, FlagSourceKind, RemapChange, ReopenCause, RootCause, StreamKind};
use crate::practice::{PracticeDetails, VerificationVerdict};
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
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::Flagged,
        CaseStatus::Contacted,
        CaseStatus::Remapped,
        CaseStatus::DhuConfirmed,
        CaseStatus::Compliant,
        CaseStatus::Closed,
    ];

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

    pub fn parse(status: &str) -> Option<CaseStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == status)
    }
}

impl std::fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the DHU saw at one look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuCheck {
    pub visible: u32,
    pub required: u32,
    pub at: DateTime<Utc>,
}

impl DhuCheck {
    pub fn meets(&self) -> bool {
        self.visible >= self.required
    }
}

/// One dashboard observation of the case's practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    pub report_date: NaiveDate,
    pub visible: u32,
    pub list_size: u32,
    pub required: u32,
}

/// Everything the rules and the views need to know about one case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    /// `None` until the case is flagged.
    pub status: Option<CaseStatus>,
    pub practice: Option<PracticeDetails>,
    /// The list size and requirement as the case last learnt them (flag or reopen).
    pub list_size: u32,
    pub required_slots: u32,
    /// Business time of the flag.
    pub created_at: Option<DateTime<Utc>>,
    /// Business time of the flag, or of the last reopen: the current episode began then, and no
    /// event may be dated before it.
    pub opened_at: Option<DateTime<Utc>>,
    pub compliant_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub assigned_to: Option<ShortText>,
    pub root_causes: Vec<RootCause>,
    pub remap_changes: Vec<RemapChange>,
    pub open_dhu_issue: bool,
    /// When the open DHU issue was raised (business time).
    pub dhu_issue_at: Option<DateTime<Utc>>,
    /// The first support the practice had in this episode (a contact, guidance, a root cause, a
    /// remap or GP Connect re-enabled): the LMC's question is whether support came, and when.
    pub first_support_at: Option<DateTime<Utc>>,
    /// The latest count of visible slots: flag, DHU confirmation, compliance or reopen.
    pub visible_slots: Option<u32>,
    /// The last remap or GP Connect re-enable of this episode.
    pub last_remap_at: Option<DateTime<Utc>>,
    /// The DHU's latest look since the last remap of this episode.
    pub dhu_check: Option<DhuCheck>,
    /// When the DHU confirmed at or above the requirement, while that still stands: a later remap
    /// or a reopen means it must look again (kept after compliance).
    pub dhu_confirmed_at: Option<DateTime<Utc>>,
    /// Why the case last reopened.
    pub reopen_cause: Option<ReopenCause>,
    /// How the case was opened, and the DHU report it was opened from.
    pub flag_source: Option<FlagSourceKind>,
    pub dhu_report_id: Option<uuid::Uuid>,
    /// Contract reviews started, and whether the last is still open.
    pub reviews: u32,
    pub review_open: bool,
    /// When the case's personal data was last erased.
    pub personal_data_erased_at: Option<DateTime<Utc>>,
    /// The practice's dashboard observations (folded for deciding; not kept by the views).
    pub observations: Vec<Observed>,
    /// The practice's GP Connect verifications: when, what they found, and the fewest free slots
    /// on a core-hours day (folded for deciding).
    pub verifications: Vec<(DateTime<Utc>, VerificationVerdict, Option<u32>)>,
    /// How many of the case's own events have been applied.
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

    /// A DHU look since the last remap that fell short of the requirement, still open.
    pub fn shortfall(&self) -> Option<DhuCheck> {
        self.dhu_check.filter(|check| !check.meets())
    }

    /// The requirement in force at `at`: the last observation reported on or before that day,
    /// else what the case learnt at its flag or reopen.
    pub fn requirement_at(&self, at: DateTime<Utc>) -> u32 {
        let day = at.date_naive();
        self.observations
            .iter()
            .filter(|o| o.report_date <= day)
            .max_by_key(|o| o.report_date)
            .map_or(self.required_slots, |o| o.required)
            .max(1)
    }

    /// The practice's latest GP Connect verification at or before `at`, if any.
    pub fn verification_at(&self, at: DateTime<Utc>) -> Option<(DateTime<Utc>, VerificationVerdict, Option<u32>)> {
        self.verifications
            .iter()
            .filter(|(when, _, _)| *when <= at)
            .max_by_key(|(when, _, _)| *when)
            .copied()
    }

    /// The observations reported after `after` (exclusive) and on or before `until`.
    pub fn observations_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> impl Iterator<Item = &Observed> {
        let (after, until) = (after.date_naive(), until.date_naive());
        self.observations
            .iter()
            .filter(move |o| o.report_date > after && o.report_date <= until)
    }
}

/// The events that are support given to the practice.
pub const SUPPORT_EVENTS: [&str; 5] = [
    "PracticeContacted",
    "GuidanceShared",
    "RootCauseIdentified",
    "SlotsRemapped",
    "GpConnectReEnabled",
];

pub fn evolve(mut case: Case, envelope: &EventEnvelope) -> Case {
    let at = envelope.occurred_at;
    if envelope.event.stream_kind() == StreamKind::Case {
        case.events += 1;
    }
    if SUPPORT_EVENTS.contains(&envelope.event.event_type()) {
        case.first_support_at = Some(case.first_support_at.map_or(at, |first| first.min(at)));
    }
    match &envelope.event {
        CaseEvent::PracticeFlagged(e) => {
            case.status = Some(CaseStatus::Flagged);
            case.practice = Some(e.practice.clone());
            case.list_size = e.list_size.get();
            case.required_slots = e.required_slots;
            case.visible_slots = Some(e.visible_slots.get());
            case.created_at = Some(at);
            case.opened_at = Some(at);
            case.flag_source = Some(e.source.kind);
            case.dhu_report_id = e.source.report_id;
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
            remapped(&mut case, at);
        }
        CaseEvent::GpConnectReEnabled(_) => remapped(&mut case, at),
        CaseEvent::DhuVisibilityConfirmed(e) => {
            let check = DhuCheck {
                visible: e.visible_slots_per_day.get(),
                required: e.required_slots.unwrap_or(case.required_slots).max(1),
                at,
            };
            case.dhu_check = Some(check);
            case.open_dhu_issue = false;
            case.visible_slots = Some(check.visible);
            if check.meets() {
                case.dhu_confirmed_at = Some(at);
                if matches!(
                    case.status,
                    Some(CaseStatus::Flagged | CaseStatus::Contacted | CaseStatus::Remapped)
                ) {
                    case.status = Some(CaseStatus::DhuConfirmed);
                }
            } else if case.status == Some(CaseStatus::DhuConfirmed) {
                // The DHU now sees too few: it is not confirmed any more.
                case.status = Some(CaseStatus::Remapped);
            }
        }
        CaseEvent::DhuVisibilityIssueReported(_) => {
            case.open_dhu_issue = true;
            case.dhu_issue_at = Some(at);
        }
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
            case.last_remap_at = None;
            case.dhu_check = None;
            case.dhu_confirmed_at = None;
            case.reopen_cause = Some(e.cause.unwrap_or(ReopenCause::Manual));
            // A new episode: its support is its own.
            case.first_support_at = None;
            if let Some(visible) = e.visible_slots {
                case.visible_slots = Some(visible.get());
            }
            if let Some(list_size) = e.list_size {
                case.list_size = list_size.get();
            }
            if let Some(required) = e.required_slots {
                case.required_slots = required;
            }
        }
        CaseEvent::SlotsObserved(observed) => {
            let fact = Observed {
                report_date: observed.report_date,
                visible: observed.visible_slots.get(),
                list_size: observed.list_size.get(),
                required: observed.required_slots,
            };
            case.observations.retain(|o| o.report_date != fact.report_date);
            case.observations.push(fact);
        }
        CaseEvent::SlotVisibilityVerified(v) | CaseEvent::SlotVisibilityCheckFailed(v) => {
            case.verifications.push((at, v.verdict, v.min_per_core_day));
        }
        CaseEvent::EscalatedToContractReview(_) => {
            case.reviews += 1;
            case.review_open = true;
        }
        CaseEvent::ContractReviewConcluded(_) => case.review_open = false,
        CaseEvent::PersonalDataErased(_) => case.personal_data_erased_at = Some(at),
        CaseEvent::GuidanceShared(_)
        | CaseEvent::NoteAdded(_)
        | CaseEvent::DhuReportFiled(_)
        | CaseEvent::DhuReportTriaged(_)
        | CaseEvent::DhuReportPersonalDataErased(_)
        | CaseEvent::PracticeRegistered(_)
        | CaseEvent::PracticeDetailsChanged(_)
        | CaseEvent::DhuSlotsObserved(_)
        | CaseEvent::DiversionNotified(_)
        | CaseEvent::DiversionEnded(_)
        | CaseEvent::DiversionAcknowledged(_)
        | CaseEvent::DiversionReviewOpened(_)
        | CaseEvent::DiversionReviewSupported(_)
        | CaseEvent::DiversionReviewClosed(_)
        | CaseEvent::CoreHoursCallsReported(_)
        | CaseEvent::TelephonyMetricsReported(_)
        | CaseEvent::PcnReviewNoted(_)
        | CaseEvent::DosGapReported(_)
        | CaseEvent::DosGapTriaged(_)
        | CaseEvent::DosEntryUpdated(_)
        | CaseEvent::DosFixConfirmed(_)
        | CaseEvent::DosGapPersists(_)
        | CaseEvent::DiversionWordsErased(_)
        | CaseEvent::DosGapWordsErased(_)
        | CaseEvent::DiversionCancelled(_)
        | CaseEvent::PracticeAnswered(_)
        | CaseEvent::PcnReviewNoteErased(_) => {}
    }
    case
}

/// A remap or GP Connect re-enabled moves an early case on, puts a DHU-confirmed one back in front
/// of the DHU (it must look again), and answers an open DHU issue or shortfall.
fn remapped(case: &mut Case, at: DateTime<Utc>) {
    if matches!(
        case.status,
        Some(CaseStatus::Flagged | CaseStatus::Contacted | CaseStatus::DhuConfirmed)
    ) {
        case.status = Some(CaseStatus::Remapped);
    }
    case.open_dhu_issue = false;
    case.dhu_check = None;
    case.dhu_confirmed_at = None;
    case.last_remap_at = Some(at);
}
