//! Command handling: load a case's stream, `decide`, append with `Exact(revision)` so concurrent
//! commands cannot both win, and keep the practice register in the same transaction. Also the
//! dashboard import and the replay of a recorded story.

mod context;
mod error;
mod handler;
mod history;
mod import;
mod practices;
mod registry;
mod replay;
mod reports;

use caseledger_eventstore::EventStore;

pub use context::{CommandContext, RequestIds};
pub use error::CommandError;
pub use handler::Outcome;
pub use history::{Loaded, envelope_of, load, load_case};
pub use import::ImportReport;
pub use practices::{DhuExtractReport, RegisterReport};
pub use registry::{PracticeCase, RegisteredState};
pub use replay::{ReplayError, ReplayReport};
pub use reports::{ReportOutcome, Reported, report_scope};

/// Runs commands against the event store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Commands {
    store: EventStore,
}

impl Commands {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }
}
