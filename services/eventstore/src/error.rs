//! The store's typed errors: conflicts a caller decides on, and the database failing.

use uuid::Uuid;

use crate::ExpectedRevision;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stream {stream}: expected {expected}, but the stream is at {}", describe_actual(*.actual))]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedRevision,
        actual: Option<u64>,
    },
    #[error("stream {stream} has been deleted for good (tombstoned)")]
    StreamDeleted { stream: String },
    #[error("stream {stream} does not exist")]
    StreamNotFound { stream: String },
    #[error("event id {} was already used for other content or another place", describe_id(*.event_id))]
    EventIdConflict { event_id: Option<Uuid> },
    #[error("an append must be its transaction's first write, so that global order agrees with revisions")]
    NotFirstWrite,
    #[error("an append needs at least one event")]
    EmptyAppend,
    #[error("invalid stream name {0:?}: it must be non-empty and must not start with '$'")]
    InvalidStreamName(String),
    #[error("subscriber {subscriber}: its checkpoint was moved by another runner")]
    CheckpointMoved { subscriber: String },
    #[error("personal data cannot be sealed or opened: {0}")]
    Sealing(String),
    #[error("stored data is malformed: {0}")]
    Malformed(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn describe_actual(actual: Option<u64>) -> String {
    actual.map_or_else(|| "no stream".to_string(), |revision| format!("revision {revision}"))
}

fn describe_id(event_id: Option<Uuid>) -> String {
    event_id.map_or_else(|| "(one of this append's)".to_string(), |id| id.to_string())
}
