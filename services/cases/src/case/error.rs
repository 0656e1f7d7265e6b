//! Why a command was refused. Business rules only: a broken database is another crate's error.

use chrono::{DateTime, Utc};

use super::state::CaseStatus;
use crate::role::Role;
use crate::values::ValueError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the {role} role may not {action}")]
    Forbidden { role: Role, action: &'static str },
    #[error("a champion may assign a case only to themselves, not to {champion_id}")]
    AssignOnlySelf { champion_id: String },
    #[error("another champion holds this case: only the ICB may reassign it")]
    HeldByAnotherChampion,
    #[error(
        "this case is not assigned to you: a champion works the cases they hold (take an unassigned one first; the ICB reassigns a held one)"
    )]
    NotYourCase,
    #[error("no such case")]
    CaseNotFound,
    #[error("this case already exists")]
    CaseAlreadyExists,
    #[error("{action} is not allowed on a {status} case")]
    InvalidTransition { status: CaseStatus, action: &'static str },
    #[error("{visible} visible slots a day do not meet the {required} required")]
    NotCompliant { visible: u32, required: u32 },
    #[error("occurredAt {occurred_at} is in the future")]
    OccurredInFuture { occurred_at: DateTime<Utc> },
    #[error("occurredAt {occurred_at} is before the current episode of the case began at {opened_at}")]
    OccurredBeforeOpened {
        occurred_at: DateTime<Utc>,
        opened_at: DateTime<Utc>,
    },
    #[error("occurredAt {occurred_at} is before {earliest}: check the year")]
    OccurredTooEarly {
        occurred_at: DateTime<Utc>,
        earliest: DateTime<Utc>,
    },
    #[error(
        "the DHU sees {visible} of the {required} slots a day required: compliance cannot be confirmed until a remap puts the case back in front of the DHU and it sees enough"
    )]
    DhuShortfall { visible: u32, required: u32 },
    #[error("the evidence does not hold: {0}")]
    MissingEvidence(String),
    #[error("this case is already in contract review")]
    ReviewAlreadyOpen,
    #[error("this case has no contract review open")]
    NoOpenReview,
    #[error("no DHU report {0} on this practice")]
    ReportNotFound(uuid::Uuid),
    #[error("this DHU report was already triaged")]
    ReportAlreadyTriaged,
    #[error(
        "a case was opened from DHU report {0}: its personal data is erased with the case's (erasePersonalData on the case)"
    )]
    ErasedWithItsCase(uuid::Uuid),
    #[error("a practice acts on its own practice only, not on {0}")]
    NotYourPractice(String),
    #[error("only the clinical director of PCN {0} records its review notes")]
    NotYourPcn(String),
    #[error("this case has had its {0} answers for today: answer again tomorrow, or ring the Digital Champion")]
    TooManyAnswers(u32),
    #[error("no review note {0} of this PCN")]
    PcnReviewNoteNotFound(uuid::Uuid),
    #[error("no Directory of Services gap {0}")]
    DosGapNotFound(uuid::Uuid),
    #[error("Directory of Services gap {0} was already reported")]
    DosGapAlreadyReported(uuid::Uuid),
    #[error("a Directory of Services gap that is {status} cannot be given {action}")]
    DosGapWrongStage { status: &'static str, action: &'static str },
    #[error("no diversion {0} at this practice")]
    DiversionNotFound(uuid::Uuid),
    #[error("diversion {0} has already ended")]
    DiversionAlreadyEnded(uuid::Uuid),
    #[error("diversion {0} was already acknowledged")]
    DiversionAlreadyAcknowledged(uuid::Uuid),
    #[error(
        "another diversion of this practice ({0}) has not ended, or overlaps this one: end it first, or correct the times"
    )]
    DiversionOverlaps(uuid::Uuid),
    #[error("no diversion review {0} at this practice")]
    DiversionReviewNotFound(uuid::Uuid),
    #[error("diversion review {0} is closed")]
    DiversionReviewClosed(uuid::Uuid),
    #[error("support comes first: record the support the practice was given before closing its review")]
    SupportFirst,
    #[error("{field}: {message}")]
    InvalidPeriod { field: &'static str, message: String },
    #[error("{field}: {source}")]
    InvalidValue {
        field: &'static str,
        #[source]
        source: ValueError,
    },
}
