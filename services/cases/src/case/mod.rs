//! One case: a flagged practice from flag to compliance. Commands in, events out, state folded.

mod command;
mod error;
mod event;
mod rules;
mod state;

pub use command::{Action, Command};
pub use error::CaseError;
pub use event::{
    CaseAssigned, CaseClosed, CaseEvent, CaseReopened, CloseReason, ComplianceConfirmed, ContactChannel, DecodeError,
    DhuVisibilityConfirmed, DhuVisibilityIssueReported, EscalatedToContractReview, EventEnvelope, Evidence, FlagSource,
    FlagSourceKind, GpConnectReEnabled, GuidanceShared, NoteAdded, PracticeContacted, PracticeFlagged, RemapChange,
    RootCause, RootCauseIdentified, SlotsRemapped, decode_event, encode_event,
};
pub use rules::decide;
pub use state::{Case, CaseStatus, evolve};

/// The stream of a case's own history.
pub fn case_stream(case_id: uuid::Uuid) -> String {
    format!("case-{case_id}")
}

/// The stream of a case's contract review, readable by the ICB and admins only.
pub fn contract_stream(case_id: uuid::Uuid) -> String {
    format!("contract-{case_id}")
}
