//! Command handling: load a case's stream, `decide`, append with `Exact(revision)` so concurrent
//! commands cannot both win, and keep the practice register in the same transaction. Also the
//! dashboard import and the replay of a recorded story.

mod answers;
mod context;
mod diversions;
mod dos;
mod error;
mod handler;
mod history;
mod import;
pub mod people;
mod practices;
mod published;
mod registry;
mod replay;
mod reports;
mod scopes;
mod telephony;
pub mod throttle;
mod words;

use caseledger_eventstore::EventStore;

pub use answers::Answered;
pub use context::{CommandContext, RequestIds};
pub use diversions::{DiversionNotice, DiversionOutcome};
pub use dos::DosOutcome;
pub use error::CommandError;
pub use handler::Outcome;
pub use history::{Loaded, envelope_of, load, load_case};
pub use import::ImportReport;
pub use practices::{DhuExtractReport, RegisterReport};
pub use published::{MAX_PUBLISHED_ROWS, PublishedFile, PublishedReport, Sources};
pub use registry::{PracticeCase, RegisteredState};
pub use replay::{ReplayError, ReplayReport};
pub use reports::{ReportOutcome, Reported};
pub use scopes::{case_scope, diversion_scope, dos_gap_scope, pcn_note_scope, report_scope};
pub use telephony::NoteOutcome;
pub use words::Erased;

/// Runs commands against the event store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Commands {
    store: EventStore,
    imports: ImportPolicy,
    /// This deployment's ICB and places, for the files NHS England publishes.
    sources: std::sync::Arc<Sources>,
    /// When a practice's diversions open a review.
    review_policy: std::sync::Arc<caseledger_cases::diversion::ReviewPolicy>,
}

/// What an import accepts: the earliest day its rows may be dated, and how many rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportPolicy {
    /// `CASELEDGER_IMPORT_EARLIEST_DATE`.
    pub earliest: chrono::NaiveDate,
    /// Practices in a dashboard or a register (`CASELEDGER_IMPORT_MAX_PRACTICES`).
    pub max_practices: usize,
    /// Rows in the DHU's extract (a row a practice a day).
    pub max_dhu_rows: usize,
}

impl Default for ImportPolicy {
    fn default() -> Self {
        Self {
            earliest: caseledger_cases::extract::EARLIEST_DAY,
            max_practices: caseledger_cases::extract::MAX_PRACTICE_ROWS,
            max_dhu_rows: 100_000,
        }
    }
}

impl ImportPolicy {
    /// The bounds of an import of up to `max_rows` rows made on `today`.
    pub fn bounds(&self, today: chrono::NaiveDate, max_rows: usize) -> caseledger_cases::extract::Bounds {
        caseledger_cases::extract::Bounds {
            earliest: self.earliest,
            latest: today,
            max_rows,
        }
    }
}

impl Commands {
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            imports: ImportPolicy::default(),
            sources: std::sync::Arc::default(),
            review_policy: std::sync::Arc::default(),
        }
    }

    /// With this deployment's threshold for diversion reviews.
    pub fn with_review_policy(mut self, policy: caseledger_cases::diversion::ReviewPolicy) -> Self {
        self.review_policy = std::sync::Arc::new(policy);
        self
    }

    /// With this deployment's import bounds.
    pub fn with_import_policy(mut self, imports: ImportPolicy) -> Self {
        self.imports = imports;
        self
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }
}
