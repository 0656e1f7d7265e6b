//! The contract's enums, mirroring the domain's.

use async_graphql::Enum;
use caseledger_cases::case::{CloseReason as DomainCloseReason, ContactChannel as DomainContactChannel};
use caseledger_cases::case::{
    Evidence as DomainEvidence, FlagSourceKind as DomainFlagSource, RemapChange as DomainRemapChange,
    ReopenCause as DomainReopenCause, ReviewOutcome as DomainReviewOutcome, RootCause as DomainRootCause,
};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "caseledger_cases::Role")]
pub enum Role {
    Icb,
    Lmc,
    Dhu,
    Champion,
    Admin,
    /// A practice manager, scoped to their practice's ODS code.
    Practice,
    /// A PCN's clinical director, scoped to their PCN.
    PcnClinicalDirector,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "caseledger_cases::CaseStatus")]
pub enum CaseStatus {
    Flagged,
    Contacted,
    Remapped,
    DhuConfirmed,
    Compliant,
    Closed,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainContactChannel")]
pub enum ContactChannel {
    Email,
    Phone,
    Teams,
    SiteVisit,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainRootCause")]
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

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainRemapChange")]
pub enum RemapChange {
    MakeSlotTypeExternal,
    MapProviderCode,
    SetSessionHolder,
    ChangeTemplate,
    AddSlots,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainEvidence")]
pub enum Evidence {
    /// The DHU's confirmation at or above the requirement, since the last remap.
    DhuConfirmation,
    /// A dashboard observation at or above the requirement, dated after the last remap.
    Dashboard,
    /// CaseLedger's own GP Connect free-slot search, as the 111 provider runs it.
    GpConnectVerification,
}

/// Where a case's visible slots come from: the latest evidence by business time.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibleSlotsSource {
    /// What the case was flagged with.
    Flag,
    /// A dashboard row of the practice.
    Dashboard,
    /// The DHU's confirmation.
    DhuConfirmation,
    /// CaseLedger's GP Connect free-slot search (the fewest on a core-hours day).
    GpConnect,
    /// The ICB's confirmation of compliance.
    ComplianceConfirmation,
    /// What the case was reopened with.
    Reopen,
}

impl VisibleSlotsSource {
    /// From the name case_view stores.
    pub fn from_stored(name: &str) -> Option<Self> {
        Some(match name {
            "FLAG" => Self::Flag,
            "DASHBOARD" => Self::Dashboard,
            "DHU_CONFIRMATION" => Self::DhuConfirmation,
            "GP_CONNECT" => Self::GpConnect,
            "COMPLIANCE_CONFIRMATION" => Self::ComplianceConfirmation,
            "REOPEN" => Self::Reopen,
            _ => return None,
        })
    }
}

/// An organisation's status as ODS publishes it.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "caseledger_cases::practice::OdsStatus")]
pub enum OdsStatus {
    Active,
    /// Closed (ODS Data Search and Export says INACTIVE).
    Closed,
    Dormant,
    Proposed,
}

/// Why a case reopened.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainReopenCause")]
pub enum ReopenReason {
    /// The list size rose past a multiple of 3,000: the requirement rose, the slots did not.
    ListSizeRise,
    /// The practice offers fewer slots than it did.
    VisibilityDrop,
    /// The ICB reopened it.
    Manual,
}

/// How a contract review ended.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainReviewOutcome")]
pub enum ContractReviewOutcome {
    NoFurtherAction,
    RemedialNotice,
    BreachNotice,
    Other,
}

/// How a case was opened.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainFlagSource")]
pub enum CaseSource {
    /// A dashboard extract showed the practice short.
    Dashboard,
    /// The ICB flagged it by hand.
    Manual,
    /// The ICB opened it from a DHU report.
    DhuReport,
}

/// Where a DHU report stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "caseledger_projections::dhu_report_view::ReportStatus")]
pub enum DhuReportStatus {
    /// Waiting for the ICB's triage.
    New,
    /// The ICB opened a case from it.
    CaseOpened,
    /// The ICB dismissed it.
    Dismissed,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainCloseReason")]
pub enum CloseReason {
    Compliant,
    PracticeClosed,
    Duplicate,
    Withdrawn,
}

/// A command of the catalogue (`docs/rules.md`): what `Case.availableCommands` says the caller may
/// issue on a case now.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "caseledger_cases::case::CommandName", name = "Command")]
pub enum Command {
    FlagPractice,
    AssignCase,
    RecordContact,
    ShareGuidance,
    RecordRootCause,
    RecordRemap,
    RecordGpConnectReEnabled,
    ConfirmDhuVisibility,
    ReportDhuVisibilityIssue,
    ConfirmCompliance,
    CloseCase,
    ReopenCase,
    AddNote,
    ErasePersonalData,
    EscalateToContractReview,
    ConcludeContractReview,
    FileDhuReport,
    TriageDhuReport,
    EraseReportPersonalData,
    RegisterPractice,
    ChangePracticeDetails,
    ImportDhuExtract,
    VerifySlotVisibility,
    NotifyDiversion,
    EndDiversion,
    AcknowledgeDiversion,
    RecordDiversionSupport,
    CloseDiversionReview,
    ImportCoreHoursCalls,
    ImportTelephonyMetrics,
    RecordPcnReviewNote,
    ReportDosGap,
    TriageDosGap,
    RecordDosUpdate,
    ConfirmDosFix,
    ReportDosGapPersists,
    EraseDiversionWords,
    EraseDosGapWords,
    CancelDiversion,
    AnswerChampion,
    ErasePcnReviewNote,
}
