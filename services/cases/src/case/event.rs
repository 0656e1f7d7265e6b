//! The case's events, past tense, each with a `schema_version` in its stored data. Older versions
//! are upcast when read, never rewritten in place.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::practice::{PracticeDetails, SlotsObserved};
use crate::role::Actor;
use crate::values::{FreeText, ListSize, ShortText, SlotCount};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagSourceKind {
    Dashboard,
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagSource {
    pub kind: FlagSourceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_date: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeFlagged {
    pub practice: PracticeDetails,
    pub list_size: ListSize,
    pub required_slots: u32,
    pub visible_slots: SlotCount,
    pub source: FlagSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FreeText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAssigned {
    pub champion_id: ShortText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    Email,
    Phone,
    Teams,
    SiteVisit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeContacted {
    pub channel: ContactChannel,
    #[serde(default)]
    pub contact_name: Option<ShortText>,
    pub summary: FreeText,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidanceShared {
    pub guide: ShortText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<ShortText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootCause {
    SlotTypeNotExternal,
    ProviderCodeUnmapped,
    WrongSlotOwner,
    GpConnectDisabled,
    TemplateMissingSlots,
    InsufficientSlotsForListSize,
    BranchSiteAnomaly,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCauseIdentified {
    pub cause: RootCause,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<FreeText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemapChange {
    MakeSlotTypeExternal,
    MapProviderCode,
    SetSessionHolder,
    ChangeTemplate,
    AddSlots,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotsRemapped {
    pub changes: Vec<RemapChange>,
    pub slots_per_day_configured: SlotCount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpConnectReEnabled {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ShortText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuVisibilityConfirmed {
    pub visible_slots_per_day: SlotCount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuVisibilityIssueReported {
    pub issue: ShortText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<FreeText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    DhuConfirmation,
    Dashboard,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceConfirmed {
    pub visible_slots_per_day: SlotCount,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Compliant,
    PracticeClosed,
    Duplicate,
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClosed {
    pub reason: CloseReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseReopened {
    pub reason: FreeText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_slots: Option<SlotCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteAdded {
    pub text: FreeText,
}

/// Lives in `contract-<case id>`, not in the case's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalatedToContractReview {
    pub reason: FreeText,
}

/// Every event of DESIGN.md's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CaseEvent {
    PracticeFlagged(PracticeFlagged),
    CaseAssigned(CaseAssigned),
    PracticeContacted(PracticeContacted),
    GuidanceShared(GuidanceShared),
    RootCauseIdentified(RootCauseIdentified),
    SlotsRemapped(SlotsRemapped),
    GpConnectReEnabled(GpConnectReEnabled),
    DhuVisibilityConfirmed(DhuVisibilityConfirmed),
    DhuVisibilityIssueReported(DhuVisibilityIssueReported),
    SlotsObserved(SlotsObserved),
    ComplianceConfirmed(ComplianceConfirmed),
    CaseClosed(CaseClosed),
    CaseReopened(CaseReopened),
    NoteAdded(NoteAdded),
    EscalatedToContractReview(EscalatedToContractReview),
}

/// An event with what every event's metadata carries for the domain: when it happened in the
/// world (business time) and who caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    pub event: CaseEvent,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("event type {0} is unknown")]
    UnknownType(String),
    #[error("{event_type} schema_version {version} is newer than this code knows ({known})")]
    FutureVersion {
        event_type: String,
        version: u64,
        known: u32,
    },
    #[error("{event_type} data is invalid: {source}")]
    Invalid {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

impl CaseEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            CaseEvent::PracticeFlagged(_) => "PracticeFlagged",
            CaseEvent::CaseAssigned(_) => "CaseAssigned",
            CaseEvent::PracticeContacted(_) => "PracticeContacted",
            CaseEvent::GuidanceShared(_) => "GuidanceShared",
            CaseEvent::RootCauseIdentified(_) => "RootCauseIdentified",
            CaseEvent::SlotsRemapped(_) => "SlotsRemapped",
            CaseEvent::GpConnectReEnabled(_) => "GpConnectReEnabled",
            CaseEvent::DhuVisibilityConfirmed(_) => "DhuVisibilityConfirmed",
            CaseEvent::DhuVisibilityIssueReported(_) => "DhuVisibilityIssueReported",
            CaseEvent::SlotsObserved(_) => SlotsObserved::EVENT_TYPE,
            CaseEvent::ComplianceConfirmed(_) => "ComplianceConfirmed",
            CaseEvent::CaseClosed(_) => "CaseClosed",
            CaseEvent::CaseReopened(_) => "CaseReopened",
            CaseEvent::NoteAdded(_) => "NoteAdded",
            CaseEvent::EscalatedToContractReview(_) => "EscalatedToContractReview",
        }
    }
}

/// The current schema version of each event type: bump it when the data's shape changes, and
/// add the step from the old shape to [`upcast`].
pub fn schema_version(event_type: &str) -> Option<u32> {
    match event_type {
        "PracticeContacted" => Some(2),
        "PracticeFlagged"
        | "CaseAssigned"
        | "GuidanceShared"
        | "RootCauseIdentified"
        | "SlotsRemapped"
        | "GpConnectReEnabled"
        | "DhuVisibilityConfirmed"
        | "DhuVisibilityIssueReported"
        | "SlotsObserved"
        | "ComplianceConfirmed"
        | "CaseClosed"
        | "CaseReopened"
        | "NoteAdded"
        | "EscalatedToContractReview" => Some(1),
        _ => None,
    }
}

/// The event's type and its data as stored, with `schema_version`.
pub fn encode_event(event: &CaseEvent) -> (&'static str, Value) {
    let event_type = event.event_type();
    let mut data = match serde_json::to_value(event) {
        Ok(Value::Object(mut tagged)) => tagged.remove("data").unwrap_or_else(|| Value::Object(Map::new())),
        _ => Value::Object(Map::new()),
    };
    if let Value::Object(fields) = &mut data {
        fields.insert("schema_version".into(), schema_version(event_type).unwrap_or(1).into());
    }
    (event_type, data)
}

/// Reads stored data of any known version as the current event.
pub fn decode_event(event_type: &str, data: &str) -> Result<CaseEvent, DecodeError> {
    let known = schema_version(event_type).ok_or_else(|| DecodeError::UnknownType(event_type.to_string()))?;
    let invalid = |source| DecodeError::Invalid {
        event_type: event_type.to_string(),
        source,
    };
    let mut value: Value = serde_json::from_str(data).map_err(invalid)?;
    if let Value::Object(fields) = &mut value {
        let version = fields.remove("schema_version").and_then(|v| v.as_u64()).unwrap_or(1);
        if version > u64::from(known) {
            return Err(DecodeError::FutureVersion {
                event_type: event_type.to_string(),
                version,
                known,
            });
        }
        upcast(event_type, version, fields);
    }
    let tagged = serde_json::json!({ "type": event_type, "data": value });
    serde_json::from_value(tagged).map_err(invalid)
}

/// Brings `fields` from `version` to the current shape, one version at a time.
fn upcast(event_type: &str, version: u64, fields: &mut Map<String, Value>) {
    if event_type == "PracticeContacted" && version < 2 {
        // v1 (the first pilot's shape): `note` held the summary, `by` the champion (now in the
        // event's metadata), and no contact name was kept.
        if let Some(note) = fields.remove("note") {
            fields.insert("summary".into(), note);
        }
        fields.remove("by");
        fields.remove("practice_ods");
        fields.entry("contact_name").or_insert(Value::Null);
    }
}
