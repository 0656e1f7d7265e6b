//! An event as stored, read back as the domain's: its data decoded (any known version), and the
//! business time and actor its metadata carries. The write side writes these metadata keys; the
//! write side and every read model read them through here.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::event::{CaseEvent, DecodeError, EventEnvelope, decode_event};
use crate::role::{Actor, Role};
use crate::values::ShortText;

/// Metadata keys every event carries.
pub const ACTOR_ID: &str = "actor_id";
pub const ACTOR_ROLE: &str = "actor_role";
pub const OCCURRED_AT: &str = "occurred_at";
pub const COMMAND_ID: &str = "command_id";

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error(transparent)]
    Data(#[from] DecodeError),
    #[error("the metadata lacks {0}")]
    MissingMetadata(&'static str),
}

/// The domain's view of a stored event: its type, its data as stored, its custom metadata.
pub fn envelope(event_type: &str, data: &str, metadata: &Map<String, Value>) -> Result<EventEnvelope, EnvelopeError> {
    let event: CaseEvent = decode_event(event_type, data)?;
    let occurred_at = metadata
        .get(OCCURRED_AT)
        .and_then(|v| v.as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or(EnvelopeError::MissingMetadata(OCCURRED_AT))?;
    let role = metadata
        .get(ACTOR_ROLE)
        .and_then(|v| v.as_str())
        .and_then(Role::parse)
        .ok_or(EnvelopeError::MissingMetadata(ACTOR_ROLE))?;
    let id = metadata
        .get(ACTOR_ID)
        .and_then(|v| v.as_str())
        .and_then(|s| ShortText::parse(s).ok())
        .ok_or(EnvelopeError::MissingMetadata(ACTOR_ID))?;
    Ok(EventEnvelope {
        event,
        occurred_at,
        actor: Actor::new(id, role),
    })
}
