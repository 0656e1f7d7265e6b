//! Reading a case back: its recorded events as envelopes (event, business time, actor), folded
//! into state; and the metadata every event is written with.

use caseledger_cases::case::{case_stream, decode_event};
use caseledger_cases::{Actor, Case, EventEnvelope, Role, evolve, values::ShortText};
use caseledger_eventstore::{Direction, EventMetadata, EventStore, ReadFrom, RecordedEvent, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{CommandContext, CommandError};

pub(crate) const ACTOR_ID: &str = "actor_id";
pub(crate) const ACTOR_ROLE: &str = "actor_role";
pub(crate) const OCCURRED_AT: &str = "occurred_at";
pub(crate) const COMMAND_ID: &str = "command_id";

/// A case's state and its recorded events (empty for a case that does not exist).
pub async fn load_case(store: &EventStore, case_id: Uuid) -> Result<(Case, Vec<RecordedEvent>), CommandError> {
    let recorded = match store
        .read_stream(&case_stream(case_id), Direction::Forwards, ReadFrom::Start, usize::MAX)
        .await
    {
        Ok(recorded) => recorded,
        Err(StoreError::StreamNotFound { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let mut case = Case::default();
    for event in &recorded {
        case = evolve(case, &envelope_of(event)?);
    }
    Ok((case, recorded))
}

/// The domain's view of a recorded event.
pub fn envelope_of(recorded: &RecordedEvent) -> Result<EventEnvelope, CommandError> {
    let event = decode_event(&recorded.event_type, recorded.data.get()).map_err(|source| CommandError::Corrupt {
        event_id: recorded.event_id,
        source,
    })?;
    let custom = &recorded.metadata.custom;
    let missing = |what| CommandError::MissingMetadata {
        event_id: recorded.event_id,
        what,
    };
    let occurred_at = custom
        .get(OCCURRED_AT)
        .and_then(|v| v.as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| missing(OCCURRED_AT))?;
    let role = custom
        .get(ACTOR_ROLE)
        .and_then(|v| v.as_str())
        .and_then(Role::parse)
        .ok_or_else(|| missing(ACTOR_ROLE))?;
    let id = custom
        .get(ACTOR_ID)
        .and_then(|v| v.as_str())
        .and_then(|s| ShortText::parse(s).ok())
        .ok_or_else(|| missing(ACTOR_ID))?;
    Ok(EventEnvelope {
        event,
        occurred_at,
        actor: Actor::new(id, role),
    })
}

/// The metadata of an event written for `context` at `occurred_at`.
pub(crate) fn metadata(context: &CommandContext, occurred_at: DateTime<Utc>, correlation_id: Uuid) -> EventMetadata {
    let mut metadata = EventMetadata {
        correlation_id: Some(correlation_id),
        causation_id: context.causation_id,
        ..EventMetadata::default()
    };
    let custom = &mut metadata.custom;
    custom.insert(ACTOR_ID.into(), context.actor.id.as_str().into());
    custom.insert(ACTOR_ROLE.into(), context.actor.role.as_str().into());
    custom.insert(
        OCCURRED_AT.into(),
        occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into(),
    );
    if let Some(command_id) = &context.command_id {
        custom.insert(COMMAND_ID.into(), command_id.as_str().into());
    }
    metadata
}

/// The revision at which this actor's command `command_id` was applied before, if it was.
pub(crate) fn earlier_result(history: &[RecordedEvent], actor: &Actor, command_id: &str) -> Option<u64> {
    history
        .iter()
        .filter(|e| {
            let custom = &e.metadata.custom;
            custom.get(COMMAND_ID).and_then(|v| v.as_str()) == Some(command_id)
                && custom.get(ACTOR_ID).and_then(|v| v.as_str()) == Some(actor.id.as_str())
        })
        .map(|e| e.revision)
        .max()
}

/// Event ids: derived from the actor and command id when given (so a repeat carries the same
/// ids and the store recognises it), otherwise new.
pub(crate) fn event_id(context: &CommandContext, index: usize) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d63_6d64_0001);
    match &context.command_id {
        Some(command_id) => Uuid::new_v5(
            &NAMESPACE,
            format!("{}/{}/{}", context.actor.id, command_id, index).as_bytes(),
        ),
        None => Uuid::now_v7(),
    }
}
