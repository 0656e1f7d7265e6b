//! Why a command did not go through: refused by the rules, overtaken by another writer, or the
//! store failed. Each is a different outcome for the caller.

use caseledger_cases::CaseError;
use caseledger_cases::case::DecodeError;
use caseledger_eventstore::StoreError;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Rejected(#[from] CaseError),
    #[error("the case has moved on: expected revision {expected:?}, it is at {actual:?}")]
    Conflict { expected: Option<u64>, actual: Option<u64> },
    #[error("practice {ods_code} already has an open case ({case_id})")]
    PracticeHasOpenCase { ods_code: String, case_id: Uuid },
    #[error("case {case_id} is not the latest case of practice {ods_code}")]
    NotLatestCase { ods_code: String, case_id: Uuid },
    #[error("no dashboard row describes practice {ods_code} (its name, PCN and list size): flag it by hand")]
    UnknownPractice { ods_code: String },
    #[error(
        "CaseLedger knows no practice {ods_code}: it is in no register, dashboard extract or case. Check the ODS code"
    )]
    NoSuchPractice { ods_code: String },
    #[error("stored event {event_id} cannot be read: {source}")]
    Corrupt {
        event_id: Uuid,
        #[source]
        source: DecodeError,
    },
    #[error("stored event {event_id} lacks {what} in its metadata")]
    MissingMetadata { event_id: Uuid, what: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CommandError {
    fn from(error: sqlx::Error) -> Self {
        CommandError::Store(StoreError::Database(error))
    }
}
