//! The case's events, past tense, each with a `schema_version` in its stored data. Older versions
//! are upcast when read, never rewritten in place.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::practice::{DhuSlotsObserved, PracticeDetails, PracticeRegistration, SlotVerification, SlotsObserved};
use crate::role::Actor;
use crate::values::{FreeText, ListSize, ShortText, SlotCount};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagSourceKind {
    Dashboard,
    Manual,
    /// The ICB opened the case from a DHU report on the practice.
    DhuReport,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagSource {
    pub kind: FlagSourceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_date: Option<chrono::NaiveDate>,
    /// The DHU report the case was opened from (kind `dhu_report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeFlagged {
    pub practice: PracticeDetails,
    pub list_size: ListSize,
    pub required_slots: u32,
    pub visible_slots: SlotCount,
    pub source: FlagSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FreeText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAssigned {
    pub champion_id: ShortText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    Email,
    Phone,
    Teams,
    SiteVisit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeContacted {
    pub channel: ContactChannel,
    #[serde(default)]
    pub contact_name: Option<ShortText>,
    pub summary: FreeText,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceShared {
    pub guide: ShortText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<ShortText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootCause {
    SlotTypeNotExternal,
    ProviderCodeUnmapped,
    WrongSlotOwner,
    GpConnectDisabled,
    TemplateMissingSlots,
    InsufficientSlotsForListSize,
    BranchSiteAnomaly,
    Other,
}

impl RootCause {
    /// What the practice is asked to put right, in its own words.
    pub fn practice_fix(self) -> &'static str {
        match self {
            RootCause::SlotTypeNotExternal => "Make the 111 slot type bookable by other organisations",
            RootCause::ProviderCodeUnmapped => "Map the 111 provider's organisation code to the 111 slots",
            RootCause::WrongSlotOwner => "Give the 111 slots to the right clinician or rota",
            RootCause::GpConnectDisabled => "Switch GP Connect appointment booking back on",
            RootCause::TemplateMissingSlots => "Add the 111 slots to the session templates",
            RootCause::InsufficientSlotsForListSize => "Offer as many 111 slots a day as the list size requires",
            RootCause::BranchSiteAnomaly => "Put each site's 111 slots on the right site",
            RootCause::Other => "Work through the Digital Champion's guidance",
        }
    }

    pub const ALL: [RootCause; 8] = [
        RootCause::SlotTypeNotExternal,
        RootCause::ProviderCodeUnmapped,
        RootCause::WrongSlotOwner,
        RootCause::GpConnectDisabled,
        RootCause::TemplateMissingSlots,
        RootCause::InsufficientSlotsForListSize,
        RootCause::BranchSiteAnomaly,
        RootCause::Other,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCauseIdentified {
    pub cause: RootCause,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<FreeText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemapChange {
    MakeSlotTypeExternal,
    MapProviderCode,
    SetSessionHolder,
    ChangeTemplate,
    AddSlots,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotsRemapped {
    pub changes: Vec<RemapChange>,
    pub slots_per_day_configured: SlotCount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpConnectReEnabled {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ShortText>,
}

/// What the DHU can see, judged against the requirement in force when it looked: at or above it,
/// the case is DHU confirmed; below, the count is kept as an open shortfall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuVisibilityConfirmed {
    pub visible_slots_per_day: SlotCount,
    /// The requirement in force at the confirmation (absent in version 1: the case's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_slots: Option<u32>,
}

impl DhuVisibilityConfirmed {
    /// Whether DHU saw enough, against `fallback` when the event does not say what it needed.
    pub fn meets(&self, fallback: u32) -> bool {
        self.visible_slots_per_day.get() >= self.required_slots.unwrap_or(fallback).max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuVisibilityIssueReported {
    /// What DHU found, in the root-cause vocabulary (absent in version 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<RootCause>,
    /// A short description (required in version 1; optional once there is a category).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<FreeText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    DhuConfirmation,
    Dashboard,
    /// CaseLedger's own free-slot search through GP Connect, as the 111 provider runs it.
    GpConnectVerification,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceConfirmed {
    pub visible_slots_per_day: SlotCount,
    pub evidence: Evidence,
    /// The requirement in force at the confirmation (absent in version 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_slots: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Compliant,
    PracticeClosed,
    Duplicate,
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClosed {
    pub reason: CloseReason,
}

/// Why a case reopened: the figures of the ICB's returns tell a practice that lost slots from one
/// whose list grew past a multiple of 3,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReopenCause {
    /// The list size rose and the requirement with it; the practice offers what it did.
    ListSizeRise,
    /// The practice offers fewer slots than before.
    VisibilityDrop,
    /// The ICB reopened it by hand.
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseReopened {
    pub reason: FreeText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_slots: Option<SlotCount>,
    /// Absent in version 1 (an import's reopen then said `regression` in `reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<ReopenCause>,
    /// The list size and requirement the reopening observation carried, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_size: Option<ListSize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_slots: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteAdded {
    pub text: FreeText,
}

/// The case's personal data was erased: its data keys destroyed, so every sealed personal field
/// of its history reads as erased from now on. Who, when and why stay on the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDataErased {
    pub reason: FreeText,
}

/// Lives in `contract-<case id>`, not in the case's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalatedToContractReview {
    pub reason: FreeText,
}

/// How a contract review ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    NoFurtherAction,
    RemedialNotice,
    BreachNotice,
    Other,
}

/// The end of the open contract review, in `contract-<case id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractReviewConcluded {
    pub outcome: ReviewOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<FreeText>,
}

/// The DHU reports a visibility problem on a practice with no open case (in `practice-<ODS>`),
/// for the ICB to triage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuReportFiled {
    pub report_id: uuid::Uuid,
    pub category: RootCause,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<FreeText>,
}

/// What the ICB did with a DHU report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    /// A case was opened from it.
    CaseOpened { case_id: uuid::Uuid },
    /// Nothing to do, and why.
    Dismissed { reason: FreeText },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageOutcome {
    CaseOpened,
    Dismissed,
}

/// The ICB's triage of a DHU report, in `practice-<ODS>`: flat, so that the lens can tell the
/// outcome (for all) from the ICB's reason (for the ICB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuReportTriaged {
    pub report_id: uuid::Uuid,
    pub outcome: TriageOutcome,
    /// The case opened from the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<uuid::Uuid>,
    /// Why it was dismissed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FreeText>,
}

impl DhuReportTriaged {
    pub fn new(report_id: uuid::Uuid, triage: &Triage) -> Self {
        match triage {
            Triage::CaseOpened { case_id } => Self {
                report_id,
                outcome: TriageOutcome::CaseOpened,
                case_id: Some(*case_id),
                reason: None,
            },
            Triage::Dismissed { reason } => Self {
                report_id,
                outcome: TriageOutcome::Dismissed,
                case_id: None,
                reason: Some(reason.clone()),
            },
        }
    }
}

/// A DHU report's personal data was erased (UK GDPR), in `practice-<ODS>`: its data key
/// destroyed, so the DHU's detail and the ICB's reason for dismissing it read as erased from now
/// on. Which report, who, when and why stay on the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuReportPersonalDataErased {
    pub report_id: uuid::Uuid,
    pub reason: FreeText,
}

/// Why a practice diverted its phones to NHS 111.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiversionReason {
    /// The practice's telephony or IT failed.
    TelephonyFailure,
    StaffShortage,
    /// The premises could not be used (flood, fire, power).
    Premises,
    Other,
}

/// A practice tells the ICB it diverts (or will divert) its phones to NHS 111, in
/// `practice-<ODS>`. When it was told is the event's business time: a notice told after `from`
/// is late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiversionNotified {
    pub diversion_id: uuid::Uuid,
    pub from: DateTime<Utc>,
    pub expected_until: DateTime<Utc>,
    pub reason: DiversionReason,
    /// The practice's words: for the ICB, champions and the practice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<FreeText>,
}

/// A planned diversion was called off before it began: it counts for nothing, in
/// `practice-<ODS>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiversionCancelled {
    pub diversion_id: uuid::Uuid,
}

/// The words about a diversion, or about a diversion review, were erased (UK GDPR: on request,
/// or once its retention period passed): its key is destroyed with this record, in
/// `practice-<ODS>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiversionWordsErased {
    /// The diversion (the practice's detail), or the review (the ICB's note on closing it).
    pub diversion_id: uuid::Uuid,
}

/// The diversion ended: the phones answer at the practice again, from `ended_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiversionEnded {
    pub diversion_id: uuid::Uuid,
    pub ended_at: DateTime<Utc>,
}

/// The ICB's primary care team acknowledged a diversion notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiversionAcknowledged {
    pub diversion_id: uuid::Uuid,
}

/// A practice's diversions passed the review threshold: a diversion review opens, for support
/// first (a champion or the PCN), in `practice-<ODS>`. Caused by the notice or end that passed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiversionReviewOpened {
    pub review_id: uuid::Uuid,
    /// The notices and core-hours minutes in the window that passed the threshold.
    pub notices: u32,
    pub core_minutes: i64,
    /// The window's start.
    pub since: DateTime<Utc>,
}

/// Support given to a practice under diversion review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiversionSupportKind {
    /// A call with the practice about why it diverts.
    Call,
    /// A visit to the practice.
    Visit,
    /// Help with its telephony (a failover line, the supplier).
    TelephonyHelp,
    /// Help with cover (the PCN's staff, a neighbouring practice).
    StaffingHelp,
    Other,
}

/// A champion or the PCN's clinical director supported a practice under diversion review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiversionReviewSupported {
    pub review_id: uuid::Uuid,
    pub kind: DiversionSupportKind,
}

/// How a diversion review ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiversionReviewOutcome {
    /// What made the practice divert is fixed.
    Resolved,
    /// Support goes on outside CaseLedger (the PCN's plan).
    OngoingSupport,
    /// The diversions were exceptional: nothing more to do.
    NoActionNeeded,
}

/// The ICB closed a diversion review with an outcome (after support).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiversionReviewClosed {
    pub review_id: uuid::Uuid,
    pub outcome: DiversionReviewOutcome,
    /// The ICB's words: for the ICB alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<FreeText>,
}

/// Every event of DESIGN.md's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CaseEvent {
    PracticeFlagged(PracticeFlagged),
    CaseAssigned(CaseAssigned),
    PracticeContacted(PracticeContacted),
    GuidanceShared(GuidanceShared),
    RootCauseIdentified(RootCauseIdentified),
    SlotsRemapped(SlotsRemapped),
    GpConnectReEnabled(GpConnectReEnabled),
    DhuVisibilityConfirmed(DhuVisibilityConfirmed),
    DhuVisibilityIssueReported(DhuVisibilityIssueReported),
    SlotsObserved(SlotsObserved),
    ComplianceConfirmed(ComplianceConfirmed),
    CaseClosed(CaseClosed),
    CaseReopened(CaseReopened),
    NoteAdded(NoteAdded),
    PersonalDataErased(PersonalDataErased),
    EscalatedToContractReview(EscalatedToContractReview),
    ContractReviewConcluded(ContractReviewConcluded),
    DhuReportFiled(DhuReportFiled),
    DhuReportTriaged(DhuReportTriaged),
    DhuReportPersonalDataErased(DhuReportPersonalDataErased),
    /// The register's entry for a practice, the first time (in `practice-<ODS>`).
    PracticeRegistered(PracticeRegistration),
    /// A later register's entry for the practice, where it differs: the whole entry as it is now.
    PracticeDetailsChanged(PracticeRegistration),
    /// A row of the DHU's own visibility extract (in `practice-<ODS>`).
    DhuSlotsObserved(DhuSlotsObserved),
    /// CaseLedger's GP Connect free-slot search answered: ENOUGH or TOO_FEW (in `practice-<ODS>`).
    SlotVisibilityVerified(SlotVerification),
    /// CaseLedger's GP Connect free-slot search did not answer (in `practice-<ODS>`).
    SlotVisibilityCheckFailed(SlotVerification),
    /// A practice diverts its phones to NHS 111 (in `practice-<ODS>`).
    DiversionNotified(DiversionNotified),
    DiversionEnded(DiversionEnded),
    DiversionAcknowledged(DiversionAcknowledged),
    DiversionReviewOpened(DiversionReviewOpened),
    DiversionReviewSupported(DiversionReviewSupported),
    DiversionReviewClosed(DiversionReviewClosed),
    /// A row of the 111 provider's weekly extract of core-hours calls (in `practice-<ODS>`).
    CoreHoursCallsReported(crate::calls::CoreHoursCallsReported),
    /// A practice's month of telephony, from the PCN's or the ICB's import (in `practice-<ODS>`).
    TelephonyMetricsReported(crate::telephony::TelephonyMetricsReported),
    /// What a PCN agreed at its review of a month (in `pcn-<U code>`).
    PcnReviewNoted(crate::telephony::PcnReviewNoted),
    /// The 111 provider reports a gap in a service's Directory of Services entry (in `dos-<id>`).
    DosGapReported(crate::dos::DosGapReported),
    DosGapTriaged(crate::dos::DosGapTriaged),
    DosEntryUpdated(crate::dos::DosEntryUpdated),
    DosFixConfirmed(crate::dos::DosFixConfirmed),
    DosGapPersists(crate::dos::DosGapPersists),
    /// A diversion's words (the practice's detail) were erased: its key destroyed.
    DiversionWordsErased(DiversionWordsErased),
    /// A planned diversion called off before it began (in `practice-<ODS>`).
    DiversionCancelled(DiversionCancelled),
    /// A Directory of Services gap's words were erased: its key destroyed.
    DosGapWordsErased(crate::dos::DosGapWordsErased),
    /// A practice answered the Digital Champion on its slot case (in `practice-<ODS>`).
    PracticeAnswered(crate::answer::PracticeAnswered),
    /// A PCN's review note's words were erased: its key destroyed (in `pcn-<U code>`).
    PcnReviewNoteErased(crate::telephony::PcnReviewNoteErased),
}

/// Which stream an event lives in: the case's own, its contract review's, its practice's, a
/// PCN's, or a Directory of Services entry's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Case,
    Contract,
    Practice,
    Pcn,
    /// A Directory of Services entry's gaps.
    Dos,
}

/// An event with what every event's metadata carries for the domain: when it happened in the
/// world (business time) and who caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    pub event: CaseEvent,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("event type {0} is unknown")]
    UnknownType(String),
    #[error("{event_type} schema_version {version} is newer than this code knows ({known})")]
    FutureVersion {
        event_type: String,
        version: u64,
        known: u32,
    },
    #[error("{event_type} data is invalid: {source}")]
    Invalid {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

impl CaseEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            CaseEvent::PracticeFlagged(_) => "PracticeFlagged",
            CaseEvent::CaseAssigned(_) => "CaseAssigned",
            CaseEvent::PracticeContacted(_) => "PracticeContacted",
            CaseEvent::GuidanceShared(_) => "GuidanceShared",
            CaseEvent::RootCauseIdentified(_) => "RootCauseIdentified",
            CaseEvent::SlotsRemapped(_) => "SlotsRemapped",
            CaseEvent::GpConnectReEnabled(_) => "GpConnectReEnabled",
            CaseEvent::DhuVisibilityConfirmed(_) => "DhuVisibilityConfirmed",
            CaseEvent::DhuVisibilityIssueReported(_) => "DhuVisibilityIssueReported",
            CaseEvent::SlotsObserved(_) => SlotsObserved::EVENT_TYPE,
            CaseEvent::ComplianceConfirmed(_) => "ComplianceConfirmed",
            CaseEvent::CaseClosed(_) => "CaseClosed",
            CaseEvent::CaseReopened(_) => "CaseReopened",
            CaseEvent::NoteAdded(_) => "NoteAdded",
            CaseEvent::PersonalDataErased(_) => "PersonalDataErased",
            CaseEvent::EscalatedToContractReview(_) => "EscalatedToContractReview",
            CaseEvent::ContractReviewConcluded(_) => "ContractReviewConcluded",
            CaseEvent::DhuReportFiled(_) => "DhuReportFiled",
            CaseEvent::DhuReportTriaged(_) => "DhuReportTriaged",
            CaseEvent::DhuReportPersonalDataErased(_) => "DhuReportPersonalDataErased",
            CaseEvent::PracticeRegistered(_) => PracticeRegistration::REGISTERED,
            CaseEvent::PracticeDetailsChanged(_) => PracticeRegistration::CHANGED,
            CaseEvent::DhuSlotsObserved(_) => DhuSlotsObserved::EVENT_TYPE,
            CaseEvent::SlotVisibilityVerified(_) => SlotVerification::VERIFIED,
            CaseEvent::SlotVisibilityCheckFailed(_) => SlotVerification::FAILED,
            CaseEvent::DiversionNotified(_) => "DiversionNotified",
            CaseEvent::DiversionEnded(_) => "DiversionEnded",
            CaseEvent::DiversionAcknowledged(_) => "DiversionAcknowledged",
            CaseEvent::DiversionReviewOpened(_) => "DiversionReviewOpened",
            CaseEvent::DiversionReviewSupported(_) => "DiversionReviewSupported",
            CaseEvent::DiversionReviewClosed(_) => "DiversionReviewClosed",
            CaseEvent::CoreHoursCallsReported(_) => crate::calls::CoreHoursCallsReported::EVENT_TYPE,
            CaseEvent::TelephonyMetricsReported(_) => crate::telephony::TelephonyMetricsReported::EVENT_TYPE,
            CaseEvent::PcnReviewNoted(_) => crate::telephony::PcnReviewNoted::EVENT_TYPE,
            CaseEvent::DosGapReported(_) => "DosGapReported",
            CaseEvent::DosGapTriaged(_) => "DosGapTriaged",
            CaseEvent::DosEntryUpdated(_) => "DosEntryUpdated",
            CaseEvent::DosFixConfirmed(_) => "DosFixConfirmed",
            CaseEvent::DosGapPersists(_) => "DosGapPersists",
            CaseEvent::DiversionWordsErased(_) => "DiversionWordsErased",
            CaseEvent::DiversionCancelled(_) => "DiversionCancelled",
            CaseEvent::DosGapWordsErased(_) => "DosGapWordsErased",
            CaseEvent::PracticeAnswered(_) => crate::answer::PracticeAnswered::EVENT_TYPE,
            CaseEvent::PcnReviewNoteErased(_) => crate::telephony::PcnReviewNoteErased::EVENT_TYPE,
        }
    }

    /// The stream this event belongs in.
    pub fn stream_kind(&self) -> StreamKind {
        stream_kind_of(self.event_type())
    }
}

/// The stream events of `event_type` belong in.
pub fn stream_kind_of(event_type: &str) -> StreamKind {
    match event_type {
        "EscalatedToContractReview" | "ContractReviewConcluded" => StreamKind::Contract,
        "SlotsObserved"
        | "DhuReportFiled"
        | "DhuReportTriaged"
        | "DhuReportPersonalDataErased"
        | "PracticeRegistered"
        | "PracticeDetailsChanged"
        | "DhuSlotsObserved"
        | "SlotVisibilityVerified"
        | "SlotVisibilityCheckFailed"
        | "DiversionNotified"
        | "DiversionEnded"
        | "DiversionAcknowledged"
        | "DiversionReviewOpened"
        | "DiversionReviewSupported"
        | "DiversionReviewClosed"
        | "CoreHoursCallsReported"
        | "TelephonyMetricsReported"
        | "DiversionWordsErased"
        | "DiversionCancelled"
        | "PracticeAnswered" => StreamKind::Practice,
        "PcnReviewNoted" | "PcnReviewNoteErased" => StreamKind::Pcn,
        "DosGapReported" | "DosGapTriaged" | "DosEntryUpdated" | "DosFixConfirmed" | "DosGapPersists"
        | "DosGapWordsErased" => StreamKind::Dos,
        _ => StreamKind::Case,
    }
}

/// Every event type of the catalogue.
pub const EVENT_TYPES: [&str; 44] = [
    "PracticeFlagged",
    "CaseAssigned",
    "PracticeContacted",
    "GuidanceShared",
    "RootCauseIdentified",
    "SlotsRemapped",
    "GpConnectReEnabled",
    "DhuVisibilityConfirmed",
    "DhuVisibilityIssueReported",
    "SlotsObserved",
    "ComplianceConfirmed",
    "CaseClosed",
    "CaseReopened",
    "NoteAdded",
    "PersonalDataErased",
    "EscalatedToContractReview",
    "ContractReviewConcluded",
    "DhuReportFiled",
    "DhuReportTriaged",
    "DhuReportPersonalDataErased",
    "PracticeRegistered",
    "PracticeDetailsChanged",
    "DhuSlotsObserved",
    "SlotVisibilityVerified",
    "SlotVisibilityCheckFailed",
    "DiversionNotified",
    "DiversionEnded",
    "DiversionAcknowledged",
    "DiversionReviewOpened",
    "DiversionReviewSupported",
    "DiversionReviewClosed",
    "CoreHoursCallsReported",
    "TelephonyMetricsReported",
    "PcnReviewNoted",
    "DosGapReported",
    "DosGapTriaged",
    "DosEntryUpdated",
    "DosFixConfirmed",
    "DosGapPersists",
    "DiversionWordsErased",
    "DosGapWordsErased",
    "DiversionCancelled",
    "PracticeAnswered",
    "PcnReviewNoteErased",
];

/// The current schema version of each event type: bump it when the data's shape changes, and
/// add the step from the old shape to [`upcast`].
pub fn schema_version(event_type: &str) -> Option<u32> {
    match event_type {
        "PracticeContacted"
        | "PracticeFlagged"
        | "DhuVisibilityConfirmed"
        | "DhuVisibilityIssueReported"
        | "ComplianceConfirmed"
        | "CaseReopened" => Some(2),
        "CaseAssigned"
        | "GuidanceShared"
        | "RootCauseIdentified"
        | "SlotsRemapped"
        | "GpConnectReEnabled"
        | "SlotsObserved"
        | "CaseClosed"
        | "NoteAdded"
        | "PersonalDataErased"
        | "EscalatedToContractReview"
        | "ContractReviewConcluded"
        | "DhuReportFiled"
        | "DhuReportTriaged"
        | "DhuReportPersonalDataErased"
        | "PracticeRegistered"
        | "PracticeDetailsChanged"
        | "DhuSlotsObserved"
        | "SlotVisibilityVerified"
        | "SlotVisibilityCheckFailed"
        | "DiversionNotified"
        | "DiversionEnded"
        | "DiversionAcknowledged"
        | "DiversionReviewOpened"
        | "DiversionReviewSupported"
        | "DiversionReviewClosed"
        | "CoreHoursCallsReported"
        | "TelephonyMetricsReported"
        | "PcnReviewNoted"
        | "DosGapReported"
        | "DosGapTriaged"
        | "DosEntryUpdated"
        | "DosFixConfirmed"
        | "DosGapPersists"
        | "DiversionWordsErased"
        | "DosGapWordsErased"
        | "DiversionCancelled"
        | "PracticeAnswered"
        | "PcnReviewNoteErased" => Some(1),
        _ => None,
    }
}

/// The event's type and its data as stored, with `schema_version`.
pub fn encode_event(event: &CaseEvent) -> (&'static str, Value) {
    let event_type = event.event_type();
    let mut data = match serde_json::to_value(event) {
        Ok(Value::Object(mut tagged)) => tagged.remove("data").unwrap_or_else(|| Value::Object(Map::new())),
        _ => Value::Object(Map::new()),
    };
    if let Value::Object(fields) = &mut data {
        fields.insert("schema_version".into(), schema_version(event_type).unwrap_or(1).into());
    }
    (event_type, data)
}

/// The key of a sealed personal field's object in stored data (`caseledger_eventstore::SEALED`).
pub const SEALED_KEY: &str = "$sealed";
/// What a sealed field reads as to a reader that folds events without opening them.
pub const SEALED_TEXT: &str = "[sealed]";

/// Reads stored data of any known version as the current event. A sealed personal field that was
/// not opened reads as [`SEALED_TEXT`]: folds never need what it holds.
pub fn decode_event(event_type: &str, data: &str) -> Result<CaseEvent, DecodeError> {
    let known = schema_version(event_type).ok_or_else(|| DecodeError::UnknownType(event_type.to_string()))?;
    if let Some(event) = decode_as_written(event_type, known, data) {
        return Ok(event);
    }
    let invalid = |source| DecodeError::Invalid {
        event_type: event_type.to_string(),
        source,
    };
    let mut value: Value = serde_json::from_str(data).map_err(invalid)?;
    if let Value::Object(fields) = &mut value {
        let version = fields.remove("schema_version").and_then(|v| v.as_u64()).unwrap_or(1);
        if version > u64::from(known) {
            return Err(DecodeError::FutureVersion {
                event_type: event_type.to_string(),
                version,
                known,
            });
        }
        upcast(event_type, version, fields);
        for field in fields.values_mut() {
            if let Value::Object(inner) = field
                && inner.len() == 1
                && inner.contains_key(SEALED_KEY)
            {
                *field = Value::String(SEALED_TEXT.to_string());
            }
        }
    }
    let tagged = serde_json::json!({ "type": event_type, "data": value });
    serde_json::from_value(tagged).map_err(invalid)
}

/// The common case, read straight from the text into the event: data with no sealed field whose
/// version needs no upcast. `None` sends everything else (and any error, which the general path
/// then reports) through [`decode_event`]'s general path, so both read alike any text `jsonb`
/// can hold (the straight path skips unknown fields unchecked, where the general one would refuse
/// a lone surrogate escape or nesting past 128 in them: neither can come out of `jsonb`).
/// A rebuild reads every stored event: going through a [`Value`] and serde's buffered adjacently
/// tagged form cost more than the fold it fed.
fn decode_as_written(event_type: &str, known: u32, data: &str) -> Option<CaseEvent> {
    use serde::de::value::{SeqAccessDeserializer, StrDeserializer};
    use serde::de::{DeserializeSeed, IntoDeserializer, SeqAccess};

    /// Only the version: every other field is skipped without being built.
    #[derive(Deserialize)]
    struct Head {
        #[serde(default)]
        schema_version: Option<Value>,
    }
    /// The tag, then the data: the sequence form of an adjacently tagged enum, which serde reads
    /// without buffering the data.
    struct TagThenData<'a, 'de> {
        tag: Option<StrDeserializer<'a, serde_json::Error>>,
        data: Option<&'a mut serde_json::Deserializer<serde_json::de::StrRead<'de>>>,
    }
    impl<'de> SeqAccess<'de> for TagThenData<'_, 'de> {
        type Error = serde_json::Error;
        fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
            if let Some(tag) = self.tag.take() {
                return seed.deserialize(tag).map(Some);
            }
            match self.data.take() {
                Some(data) => seed.deserialize(data).map(Some),
                None => Ok(None),
            }
        }
    }

    if data.contains(SEALED_KEY) {
        return None;
    }
    let head: Head = serde_json::from_str(data).ok()?;
    let version = head.schema_version.and_then(|v| v.as_u64()).unwrap_or(1);
    if version > u64::from(known) || upcast_changes(event_type, version) {
        return None;
    }
    let mut reader = serde_json::Deserializer::from_str(data);
    let seq = TagThenData {
        tag: Some(event_type.into_deserializer()),
        data: Some(&mut reader),
    };
    let event = CaseEvent::deserialize(SeqAccessDeserializer::new(seq)).ok()?;
    reader.end().ok()?;
    Some(event)
}

/// Whether [`upcast`] changes data of `version`: every step of `upcast` is taken under this, and
/// the straight path reads only what it says needs none.
fn upcast_changes(event_type: &str, version: u64) -> bool {
    event_type == "PracticeContacted" && version < 2
}

/// Whether [`decode_event`] reads `data` straight from its text: the schema tests check that every
/// event as written now does (else every read would quietly take the slower general path).
#[doc(hidden)]
pub fn reads_as_written(event_type: &str, data: &str) -> bool {
    schema_version(event_type).is_some_and(|known| decode_as_written(event_type, known, data).is_some())
}

/// Brings `fields` from `version` to the current shape, one version at a time. The version 2
/// shapes of PracticeFlagged, DhuVisibilityConfirmed, DhuVisibilityIssueReported,
/// ComplianceConfirmed and CaseReopened only add optional fields, so version 1 reads as it is.
fn upcast(event_type: &str, version: u64, fields: &mut Map<String, Value>) {
    if upcast_changes(event_type, version) {
        // v1 (the first pilot's shape): `note` held the summary, `by` the champion (now in the
        // event's metadata), and no contact name was kept.
        if let Some(note) = fields.remove("note") {
            fields.insert("summary".into(), note);
        }
        fields.remove("by");
        fields.remove("practice_ods");
        fields.entry("contact_name").or_insert(Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_both_ways(event_type: &str, data: &str) -> (Option<CaseEvent>, Result<CaseEvent, DecodeError>) {
        let known = schema_version(event_type).expect("a known type");
        (
            decode_as_written(event_type, known, data),
            decode_event(event_type, data),
        )
    }

    #[test]
    fn data_as_written_reads_straight_and_the_same_as_the_general_path() {
        let data = r#"{"schema_version":2,"summary":"Rang the manager","channel":"phone","contact_name":"A. Lee"}"#;
        let (straight, general) = read_both_ways("PracticeContacted", data);
        let straight = straight.expect("current data reads straight");
        assert_eq!(Ok(straight.clone()), general.map_err(|e| e.to_string()));
        let CaseEvent::PracticeContacted(contacted) = straight else {
            panic!("{straight:?}")
        };
        assert_eq!(contacted.summary.as_str(), "Rang the manager");
        assert_eq!(contacted.contact_name.as_ref().map(|n| n.as_str()), Some("A. Lee"));
    }

    #[test]
    fn sealed_old_future_and_broken_data_take_the_general_path() {
        let sealed = r#"{"schema_version":2,"summary":{"$sealed":"AAAA"},"channel":"phone","contact_name":null}"#;
        let (straight, general) = read_both_ways("PracticeContacted", sealed);
        assert_eq!(straight, None);
        let CaseEvent::PracticeContacted(contacted) = general.expect("a sealed field reads") else {
            panic!()
        };
        assert_eq!(contacted.summary.as_str(), SEALED_TEXT);

        let first_pilot = r#"{"schema_version":1,"note":"Left a message","channel":"email","by":"dc-1"}"#;
        let (straight, general) = read_both_ways("PracticeContacted", first_pilot);
        assert_eq!(straight, None);
        let CaseEvent::PracticeContacted(contacted) = general.expect("v1 upcasts") else {
            panic!()
        };
        assert_eq!(contacted.summary.as_str(), "Left a message");

        let future = r#"{"schema_version":3,"summary":"x","channel":"phone"}"#;
        let (straight, general) = read_both_ways("PracticeContacted", future);
        assert_eq!(straight, None);
        assert!(
            matches!(general, Err(DecodeError::FutureVersion { version: 3, .. })),
            "{general:?}"
        );

        for broken in [
            r#"{"schema_version":2,"channel":"phone"}"#,
            r#"{"summary":"x"} trailing"#,
            "[1]",
        ] {
            let (straight, general) = read_both_ways("PracticeContacted", broken);
            assert_eq!(straight, None, "{broken}");
            assert!(
                matches!(general, Err(DecodeError::Invalid { .. })),
                "{broken}: {general:?}"
            );
        }
    }
}
