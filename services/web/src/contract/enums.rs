//! The schema's enums, each checked against `schema/caseledger.graphql` by cynic (a value missing
//! on either side fails the build) and, where the domain has the same idea, converted to and from
//! the domain's own enum (an exhaustive match both ways: a variant added to the domain fails the
//! build too). The pages work with the domain's enums.

use caseledger_cases::case as domain;

use super::schema;

/// A schema enum mirrored one to one by a domain enum.
macro_rules! mirrors {
    ($(#[$meta:meta])* $name:ident = $domain:path { $($variant:ident),+ $(,)? }) => {
        #[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $(#[$meta])*
        pub enum $name {
            $($variant),+
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => <$domain>::$variant),+
                }
            }
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value {
                    $(<$domain>::$variant => $name::$variant),+
                }
            }
        }
    };
}

mirrors!(
    Role = caseledger_cases::Role {
        Icb,
        Lmc,
        Dhu,
        Champion,
        Admin,
        Practice,
        PcnClinicalDirector
    }
);
mirrors!(
    DiversionSupportKind = domain::DiversionSupportKind {
        Call,
        Visit,
        TelephonyHelp,
        StaffingHelp,
        Other
    }
);
mirrors!(
    DiversionReviewOutcome = domain::DiversionReviewOutcome {
        Resolved,
        OngoingSupport,
        NoActionNeeded
    }
);
mirrors!(
    DiversionReason = domain::DiversionReason {
        TelephonyFailure,
        StaffShortage,
        Premises,
        Other
    }
);
mirrors!(
    OdsStatus = caseledger_cases::practice::OdsStatus {
        Active,
        Closed,
        Dormant,
        Proposed
    }
);
/// Where a case's visible slots come from (no domain type: the read model's own).
#[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisibleSlotsSource {
    Flag,
    Dashboard,
    DhuConfirmation,
    GpConnect,
    ComplianceConfirmation,
    Reopen,
}

impl VisibleSlotsSource {
    /// In words, for a page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Flag => "when flagged",
            Self::Dashboard => "dashboard",
            Self::DhuConfirmation => "DHU's confirmation",
            Self::GpConnect => "GP Connect check",
            Self::ComplianceConfirmation => "ICB's confirmation",
            Self::Reopen => "when reopened",
        }
    }
}

mirrors!(
    CaseStatus = caseledger_cases::CaseStatus {
        Flagged,
        Contacted,
        Remapped,
        DhuConfirmed,
        Compliant,
        Closed
    }
);
mirrors!(
    ContactChannel = domain::ContactChannel {
        Email,
        Phone,
        Teams,
        SiteVisit
    }
);
mirrors!(
    RootCause = domain::RootCause {
        SlotTypeNotExternal,
        ProviderCodeUnmapped,
        WrongSlotOwner,
        GpConnectDisabled,
        TemplateMissingSlots,
        InsufficientSlotsForListSize,
        BranchSiteAnomaly,
        Other,
    }
);
mirrors!(
    RemapChange = domain::RemapChange {
        MakeSlotTypeExternal,
        MapProviderCode,
        SetSessionHolder,
        ChangeTemplate,
        AddSlots,
    }
);
mirrors!(
    Evidence = domain::Evidence {
        DhuConfirmation,
        Dashboard,
        GpConnectVerification
    }
);
mirrors!(
    #[cynic(graphql_type = "ReopenReason")]
    ReopenReason = domain::ReopenCause {
        ListSizeRise,
        VisibilityDrop,
        Manual
    }
);
mirrors!(
    #[cynic(graphql_type = "CaseSource")]
    CaseSource = domain::FlagSourceKind {
        Dashboard,
        Manual,
        DhuReport
    }
);
mirrors!(
    CloseReason = domain::CloseReason {
        Compliant,
        PracticeClosed,
        Duplicate,
        Withdrawn
    }
);
mirrors!(
    #[cynic(graphql_type = "ContractReviewOutcome")]
    ContractReviewOutcome = domain::ReviewOutcome {
        NoFurtherAction,
        RemedialNotice,
        BreachNotice,
        Other
    }
);
mirrors!(
    Stage = caseledger_cases::deadlines::Stage {
        Contact,
        Remap,
        DhuCheck,
        IcbDecision
    }
);
mirrors!(
    Command = domain::CommandName {
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
        ErasePcnReviewNote
    }
);
mirrors!(
    DosGapKind = caseledger_cases::dos::DosGapKind {
        Hours,
        SkillOrCapacity,
        WrongDetails
    }
);
mirrors!(VerificationVerdict = caseledger_cases::practice::VerificationVerdict { Enough, TooFew, Failed });

/// Where a DHU report stands (the read side's idea, not the domain's).
#[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DhuReportStatus {
    New,
    CaseOpened,
    Dismissed,
}

/// Who holds a case, as its reader may know it.
#[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseHolder {
    Nobody,
    You,
    SomeoneElse,
}

/// What a person may hear about.
#[derive(cynic::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    CaseReopened,
    DhuProblem,
    Deadline,
    AwaitingCheck,
    WeeklyDigest,
    DiversionNotice,
    DosGap,
    PracticeAnswer,
}

/// A schema enum a form offers and a page names: every value in the order a form lists them,
/// each with its label. The one table of each enum's words.
pub trait Labelled: Sized + Copy + serde::Serialize + serde::de::DeserializeOwned + 'static {
    const ALL: &'static [Self];
    fn label(self) -> &'static str;
}

/// Every value of `E` as (schema name, label), for a form's choices.
pub fn options<E: Labelled>() -> Vec<(String, &'static str)> {
    E::ALL
        .iter()
        .map(|value| (super::name(*value), value.label()))
        .collect()
}

/// The label of a schema name of `E` (`PHONE`, or `phone` as events store it).
pub fn label_of<E: Labelled>(name: &str) -> Option<&'static str> {
    super::parse::<E>(&name.to_uppercase()).map(E::label)
}

impl Labelled for DosGapKind {
    const ALL: &'static [Self] = &[Self::Hours, Self::SkillOrCapacity, Self::WrongDetails];
    fn label(self) -> &'static str {
        match self {
            Self::Hours => "Hours: not open when needed",
            Self::SkillOrCapacity => "A skill or capacity only some days",
            Self::WrongDetails => "Wrong details",
        }
    }
}

impl Labelled for ContactChannel {
    const ALL: &'static [Self] = &[Self::Phone, Self::Email, Self::Teams, Self::SiteVisit];
    fn label(self) -> &'static str {
        match self {
            Self::Phone => "Phone",
            Self::Email => "Email",
            Self::Teams => "Teams",
            Self::SiteVisit => "Site visit",
        }
    }
}

impl Labelled for RootCause {
    const ALL: &'static [Self] = &[
        Self::SlotTypeNotExternal,
        Self::ProviderCodeUnmapped,
        Self::WrongSlotOwner,
        Self::GpConnectDisabled,
        Self::TemplateMissingSlots,
        Self::InsufficientSlotsForListSize,
        Self::BranchSiteAnomaly,
        Self::Other,
    ];
    fn label(self) -> &'static str {
        match self {
            Self::SlotTypeNotExternal => "Slot type not externally visible",
            Self::ProviderCodeUnmapped => "111 provider's code not mapped",
            Self::WrongSlotOwner => "No qualifying session holder as slot owner",
            Self::GpConnectDisabled => "GP Connect switched off",
            Self::TemplateMissingSlots => "Template releases too few slots",
            Self::InsufficientSlotsForListSize => "Too few slots for the list size",
            Self::BranchSiteAnomaly => "Slots at a branch site",
            Self::Other => "Something else",
        }
    }
}

impl Labelled for RemapChange {
    const ALL: &'static [Self] = &[
        Self::MakeSlotTypeExternal,
        Self::MapProviderCode,
        Self::SetSessionHolder,
        Self::ChangeTemplate,
        Self::AddSlots,
    ];
    fn label(self) -> &'static str {
        match self {
            Self::MakeSlotTypeExternal => "Made the slot type external",
            Self::MapProviderCode => "Mapped the provider code",
            Self::SetSessionHolder => "Set the session holder",
            Self::ChangeTemplate => "Changed the template",
            Self::AddSlots => "Added slots",
        }
    }
}

impl Labelled for Evidence {
    const ALL: &'static [Self] = &[Self::DhuConfirmation, Self::Dashboard, Self::GpConnectVerification];
    fn label(self) -> &'static str {
        match self {
            Self::DhuConfirmation => "DHU confirmation",
            Self::Dashboard => "Dashboard",
            Self::GpConnectVerification => "GP Connect verification",
        }
    }
}

impl Labelled for CloseReason {
    const ALL: &'static [Self] = &[Self::Compliant, Self::PracticeClosed, Self::Duplicate, Self::Withdrawn];
    fn label(self) -> &'static str {
        match self {
            Self::Compliant => "Compliant",
            Self::PracticeClosed => "Practice closed",
            Self::Duplicate => "Duplicate",
            Self::Withdrawn => "Withdrawn",
        }
    }
}

impl Labelled for ContractReviewOutcome {
    const ALL: &'static [Self] = &[
        Self::NoFurtherAction,
        Self::RemedialNotice,
        Self::BreachNotice,
        Self::Other,
    ];
    fn label(self) -> &'static str {
        match self {
            Self::NoFurtherAction => "No further action",
            Self::RemedialNotice => "Remedial notice",
            Self::BreachNotice => "Breach notice",
            Self::Other => "Other",
        }
    }
}
