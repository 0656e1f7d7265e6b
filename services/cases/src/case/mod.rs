//! One case: a flagged practice from flag to compliance. Commands in, events out, state folded.

pub mod catalogue;
mod command;
pub mod envelope;
mod error;
mod event;
mod rules;
mod state;

pub use catalogue::{Allowed, COMMANDS, CommandName, CommandRule, command_rule, rule_for_event};
pub use command::{Action, Command};
pub use envelope::{EnvelopeError, envelope};
pub use error::CaseError;
pub use event::{
    CaseAssigned, CaseClosed, CaseEvent, CaseReopened, CloseReason, ComplianceConfirmed, ContactChannel,
    ContractReviewConcluded, DecodeError, DhuReportFiled, DhuReportPersonalDataErased, DhuReportTriaged,
    DhuVisibilityConfirmed, DhuVisibilityIssueReported, DiversionAcknowledged, DiversionCancelled, DiversionEnded,
    DiversionNotified, DiversionReason, DiversionReviewClosed, DiversionReviewOpened, DiversionReviewOutcome,
    DiversionReviewSupported, DiversionSupportKind, DiversionWordsErased, EVENT_TYPES, EscalatedToContractReview,
    EventEnvelope, Evidence, FlagSource, FlagSourceKind, GpConnectReEnabled, GuidanceShared, NoteAdded,
    PersonalDataErased, PracticeContacted, PracticeFlagged, RemapChange, ReopenCause, ReviewOutcome, RootCause,
    RootCauseIdentified, SEALED_KEY, SEALED_TEXT, SlotsRemapped, StreamKind, Triage, TriageOutcome, decode_event,
    encode_event, reads_as_written, stream_kind_of,
};
pub use rules::{decide, earliest_business_time};
pub use state::{Case, CaseStatus, DhuCheck, Observed, SUPPORT_EVENTS, evolve};

/// The stream of a case's own history.
pub fn case_stream(case_id: uuid::Uuid) -> String {
    format!("case-{case_id}")
}

/// The stream of a case's contract review, readable by the ICB and admins only.
pub fn contract_stream(case_id: uuid::Uuid) -> String {
    format!("contract-{case_id}")
}

/// What a stream's name says it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamName {
    Case(uuid::Uuid),
    Contract(uuid::Uuid),
    Practice(crate::values::OdsCode),
}

impl StreamName {
    /// `case-<uuid>`, `contract-<uuid>` or `practice-<ODS>`; `None` for any other stream.
    pub fn parse(stream: &str) -> Option<StreamName> {
        let (category, id) = stream.split_once('-')?;
        match category {
            "case" => uuid::Uuid::parse_str(id).ok().map(StreamName::Case),
            "contract" => uuid::Uuid::parse_str(id).ok().map(StreamName::Contract),
            "practice" => crate::values::OdsCode::parse(id).ok().map(StreamName::Practice),
            _ => None,
        }
    }

    /// The case a `case-` or `contract-` stream belongs to.
    pub fn case_id(&self) -> Option<uuid::Uuid> {
        match self {
            StreamName::Case(id) | StreamName::Contract(id) => Some(*id),
            StreamName::Practice(_) => None,
        }
    }
}
