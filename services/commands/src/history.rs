//! Reading a case back: its recorded events as envelopes (event, business time, actor), folded
//! into state with its contract review's events (and, when a rule needs the requirement on a
//! given day, its practice's observations); and the metadata every event is written with.

use caseledger_cases::case::envelope::{ACTOR_ID, ACTOR_ROLE, COMMAND_ID, OCCURRED_AT};
use caseledger_cases::case::{EnvelopeError, StreamKind, case_stream, contract_stream};
use caseledger_cases::practice::practice_stream;
use caseledger_cases::{Actor, Case, EventEnvelope, evolve};
use caseledger_eventstore::{Direction, EventMetadata, EventStore, ReadFrom, RecordedEvent, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{CommandContext, CommandError};

/// A case as a command finds it.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub case: Case,
    /// The case's own stream.
    pub history: Vec<RecordedEvent>,
    /// Its contract review's stream.
    pub contract: Vec<RecordedEvent>,
}

impl Loaded {
    /// The contract review stream's revision, for appending to it with `Exact`.
    pub fn contract_revision(&self) -> Option<u64> {
        self.contract.last().map(|e| e.revision)
    }
}

/// The case `case_id`, with its contract review folded in; with its practice's observations too
/// when `observations` (the rules that judge against the requirement on a day need them).
pub async fn load(store: &EventStore, case_id: Uuid, observations: bool) -> Result<Loaded, CommandError> {
    let recorded = store
        .read_streams(&[case_stream(case_id), contract_stream(case_id)])
        .await?;
    let mut loaded = Loaded::default();
    for event in recorded {
        loaded.case = evolve(loaded.case, &envelope_of(&event)?);
        match caseledger_cases::case::stream_kind_of(&event.event_type) {
            StreamKind::Contract => loaded.contract.push(event),
            _ => loaded.history.push(event),
        }
    }
    if observations && let Some(practice) = loaded.case.practice.clone() {
        let stream = practice_stream(&practice.ods_code);
        for event in store.read_streams(&[stream]).await? {
            if FOLDED_FROM_PRACTICE.contains(&event.event_type.as_str()) {
                loaded.case = evolve(loaded.case, &envelope_of(&event)?);
            }
        }
    }
    Ok(loaded)
}

/// What a case's rules read of its practice's stream: the dashboard's observations (the
/// requirement on a day) and CaseLedger's GP Connect verifications (evidence of compliance).
const FOLDED_FROM_PRACTICE: [&str; 3] = [
    caseledger_cases::practice::SlotsObserved::EVENT_TYPE,
    caseledger_cases::practice::SlotVerification::VERIFIED,
    caseledger_cases::practice::SlotVerification::FAILED,
];

/// A case's state and its own stream's events (empty for a case that does not exist).
pub async fn load_case(store: &EventStore, case_id: Uuid) -> Result<(Case, Vec<RecordedEvent>), CommandError> {
    let loaded = load(store, case_id, false).await?;
    Ok((loaded.case, loaded.history))
}

/// Every event of a stream, or none when it does not exist.
pub(crate) async fn read_whole(store: &EventStore, stream: &str) -> Result<Vec<RecordedEvent>, CommandError> {
    match store
        .read_stream(stream, Direction::Forwards, ReadFrom::Start, usize::MAX)
        .await
    {
        Ok(recorded) => Ok(recorded),
        Err(StoreError::StreamNotFound { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// The domain's view of a recorded event.
pub fn envelope_of(recorded: &RecordedEvent) -> Result<EventEnvelope, CommandError> {
    caseledger_cases::case::envelope(&recorded.event_type, recorded.data.get(), &recorded.metadata.custom).map_err(
        |error| match error {
            EnvelopeError::Data(source) => CommandError::Corrupt {
                event_id: recorded.event_id,
                source,
            },
            EnvelopeError::MissingMetadata(what) => CommandError::MissingMetadata {
                event_id: recorded.event_id,
                what,
            },
        },
    )
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

/// The case's revision after this actor's command `command_id`, if it was applied before: the
/// revision its event took in the case's stream (or the case's revision now, for a command whose
/// event went to the contract review's stream).
pub(crate) fn earlier_result(loaded: &Loaded, actor: &Actor, command_id: &str) -> Option<u64> {
    let same = |e: &&RecordedEvent| {
        let custom = &e.metadata.custom;
        custom.get(COMMAND_ID).and_then(|v| v.as_str()) == Some(command_id)
            && custom.get(ACTOR_ID).and_then(|v| v.as_str()) == Some(actor.id.as_str())
    };
    loaded
        .history
        .iter()
        .filter(same)
        .map(|e| e.revision)
        .max()
        .or_else(|| {
            loaded
                .contract
                .iter()
                .any(|e| same(&e))
                .then(|| loaded.case.revision().unwrap_or_default())
        })
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

/// Whether this very command (same `commandId`) was applied before: its first event is in
/// `stream`, of `event_type`, about `subject` (the id under one of `keys` in its data). A refusal
/// of a command that went through before is then the first one's answer.
pub(crate) async fn applied_before(
    store: &EventStore,
    context: &CommandContext,
    stream: &str,
    event_type: &str,
    keys: &[&str],
    subject: Uuid,
) -> Result<bool, CommandError> {
    if context.command_id.is_none() {
        return Ok(false);
    }
    let Some(first) = store.find_event(event_id(context, 0)).await? else {
        return Ok(false);
    };
    let recorded = serde_json::from_str::<serde_json::Value>(first.data.get())
        .ok()
        .and_then(|data| {
            keys.iter()
                .find_map(|key| data.get(*key).and_then(|id| id.as_str()).map(str::to_string))
        });
    Ok(first.stream_id == stream
        && first.event_type == event_type
        && recorded.as_deref() == Some(subject.to_string().as_str()))
}
