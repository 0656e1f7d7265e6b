//! The lens: what of a case's history each role may see (GRAPHQL.md, "The lens"). Applied to the
//! data before it leaves the service, so a field a role may not see is never sent.

use caseledger_cases::Role;
use caseledger_cases::case::{decode_event, encode_event};
use caseledger_eventstore::RecordedEvent;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Event types the DHU lens shows.
const DHU_EVENTS: [&str; 8] = [
    "PracticeFlagged",
    "SlotsRemapped",
    "GpConnectReEnabled",
    "DhuVisibilityConfirmed",
    "DhuVisibilityIssueReported",
    "ComplianceConfirmed",
    "CaseClosed",
    "CaseReopened",
];

/// Free-text fields: notes, summaries, details, reasons.
const FREE_TEXT: [&str; 4] = ["summary", "detail", "text", "reason"];

/// One event of a case's history as a role sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LensedEvent {
    /// The case the event belongs to (its `case-` or `contract-` stream's id).
    pub case_id: uuid::Uuid,
    pub revision: u64,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor_role: Role,
    /// `None` where the lens hides who (champions, to the DHU and the LMC).
    pub actor_id: Option<String>,
    pub data: Value,
}

/// `event` as `viewer` may see it, or `None` if the viewer may not see it at all.
pub fn lens(viewer: Role, event: &RecordedEvent) -> Option<LensedEvent> {
    let envelope = caseledger_commands::envelope_of(event).ok()?;
    let event_type = event.event_type.as_str();
    let visible = match viewer {
        Role::Icb | Role::Admin | Role::Champion => true,
        Role::Dhu => DHU_EVENTS.contains(&event_type),
        Role::Lmc => event_type != "NoteAdded",
    };
    if !visible || event.stream_id.starts_with("contract-") && !matches!(viewer, Role::Icb | Role::Admin) {
        return None;
    }
    // The current shape of the data, whatever version was stored.
    let (_, mut data) = encode_event(&decode_event(event_type, event.data.get()).ok()?);
    if let Value::Object(fields) = &mut data {
        fields.remove("schema_version");
        let author = envelope.actor.role;
        if !matches!(viewer, Role::Champion | Role::Admin) {
            fields.remove("contact_name");
        }
        let sees_text = match viewer {
            Role::Icb | Role::Admin | Role::Champion => true,
            Role::Dhu => author == Role::Dhu,
            Role::Lmc => false,
        };
        if !sees_text {
            for field in FREE_TEXT {
                // Enumerated reasons (why a case was closed) are not free text.
                if field == "reason" && event_type == "CaseClosed" {
                    continue;
                }
                fields.remove(field);
            }
        }
        if matches!(viewer, Role::Dhu | Role::Lmc) {
            fields.remove("champion_id");
        }
    }
    let hides_who = matches!(viewer, Role::Dhu | Role::Lmc) && envelope.actor.role == Role::Champion;
    let case_id = event
        .stream_id
        .split_once('-')
        .and_then(|(_, id)| uuid::Uuid::parse_str(id).ok())?;
    Some(LensedEvent {
        case_id,
        revision: event.revision,
        event_type: event.event_type.clone(),
        occurred_at: envelope.occurred_at,
        recorded_at: event.recorded_at,
        actor_role: envelope.actor.role,
        actor_id: (!hides_who).then(|| envelope.actor.id.to_string()),
        data,
    })
}
