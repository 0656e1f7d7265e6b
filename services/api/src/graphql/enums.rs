//! The contract's enums, mirroring the domain's.

use async_graphql::Enum;
use caseledger_cases::case::{CloseReason as DomainCloseReason, ContactChannel as DomainContactChannel};
use caseledger_cases::case::{
    Evidence as DomainEvidence, RemapChange as DomainRemapChange, RootCause as DomainRootCause,
};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "caseledger_cases::Role")]
pub enum Role {
    Icb,
    Lmc,
    Dhu,
    Champion,
    Admin,
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
    DhuConfirmation,
    Dashboard,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "DomainCloseReason")]
pub enum CloseReason {
    Compliant,
    PracticeClosed,
    Duplicate,
    Withdrawn,
}
