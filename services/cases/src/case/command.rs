//! What a party asks for, imperative. The actor's role and the business time come with it.

use chrono::{DateTime, Utc};

use super::event::{
    CloseReason, ContactChannel, Evidence, FlagSource, RemapChange, ReopenCause, ReviewOutcome, RootCause,
};
use crate::practice::PracticeDetails;
use crate::role::Actor;
use crate::values::{FreeText, ListSize, ShortText, SlotCount};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub actor: Actor,
    /// Business time: when it happened (may be back-dated, never in the future).
    pub occurred_at: DateTime<Utc>,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    FlagPractice {
        practice: PracticeDetails,
        list_size: ListSize,
        visible_slots: SlotCount,
        source: FlagSource,
        reason: Option<FreeText>,
    },
    AssignCase {
        champion_id: ShortText,
    },
    RecordContact {
        channel: ContactChannel,
        contact_name: Option<ShortText>,
        summary: FreeText,
    },
    ShareGuidance {
        guide: ShortText,
        version: Option<ShortText>,
    },
    RecordRootCause {
        cause: RootCause,
        detail: Option<FreeText>,
    },
    RecordRemap {
        changes: Vec<RemapChange>,
        slots_per_day_configured: SlotCount,
    },
    RecordGpConnectReEnabled {
        reference: Option<ShortText>,
    },
    ConfirmDhuVisibility {
        visible_slots_per_day: SlotCount,
    },
    ReportDhuVisibilityIssue {
        category: Option<RootCause>,
        issue: Option<ShortText>,
        detail: Option<FreeText>,
    },
    ConfirmCompliance {
        visible_slots_per_day: SlotCount,
        evidence: Evidence,
    },
    CloseCase {
        reason: CloseReason,
    },
    ReopenCase {
        reason: FreeText,
        visible_slots: Option<SlotCount>,
        cause: ReopenCause,
        /// The list size of the observation that reopened it, when an import did.
        list_size: Option<ListSize>,
    },
    AddNote {
        text: FreeText,
    },
    ErasePersonalData {
        reason: FreeText,
    },
    EscalateToContractReview {
        reason: FreeText,
    },
    ConcludeContractReview {
        outcome: ReviewOutcome,
        note: Option<FreeText>,
    },
}

use super::catalogue::CommandName;

impl Action {
    /// The catalogue's command it is.
    pub fn command(&self) -> CommandName {
        match self {
            Action::FlagPractice { .. } => CommandName::FlagPractice,
            Action::AssignCase { .. } => CommandName::AssignCase,
            Action::RecordContact { .. } => CommandName::RecordContact,
            Action::ShareGuidance { .. } => CommandName::ShareGuidance,
            Action::RecordRootCause { .. } => CommandName::RecordRootCause,
            Action::RecordRemap { .. } => CommandName::RecordRemap,
            Action::RecordGpConnectReEnabled { .. } => CommandName::RecordGpConnectReEnabled,
            Action::ConfirmDhuVisibility { .. } => CommandName::ConfirmDhuVisibility,
            Action::ReportDhuVisibilityIssue { .. } => CommandName::ReportDhuVisibilityIssue,
            Action::ConfirmCompliance { .. } => CommandName::ConfirmCompliance,
            Action::CloseCase { .. } => CommandName::CloseCase,
            Action::ReopenCase { .. } => CommandName::ReopenCase,
            Action::AddNote { .. } => CommandName::AddNote,
            Action::ErasePersonalData { .. } => CommandName::ErasePersonalData,
            Action::EscalateToContractReview { .. } => CommandName::EscalateToContractReview,
            Action::ConcludeContractReview { .. } => CommandName::ConcludeContractReview,
        }
    }

    /// The command's name, as errors and logs give it.
    pub fn name(&self) -> &'static str {
        self.command().as_str()
    }

    /// Who may issue it, where, and what it makes.
    pub fn rule(&self) -> &'static super::catalogue::CommandRule {
        self.command().rule()
    }
}
