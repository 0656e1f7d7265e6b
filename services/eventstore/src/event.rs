//! Events going in ([`NewEvent`]) and coming out ([`RecordedEvent`]), with their metadata.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::{Position, StoreError};

/// Who caused an event and why; `custom` carries whatever else the writer wants to keep.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    #[serde(flatten)]
    pub custom: serde_json::Map<String, serde_json::Value>,
}

/// Read as one JSON object whose two known keys are taken out of it: the same reading as
/// `#[serde(flatten)]` on `custom`, without serde buffering every key and value first (every
/// event read, and a rebuild reads them all, carries metadata).
impl<'de> Deserialize<'de> for EventMetadata {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut custom = serde_json::Map::deserialize(deserializer)?;
        let mut id = |key: &str| -> Result<Option<Uuid>, D::Error> {
            match custom.remove(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(value) => serde_json::from_value(value)
                    .map(Some)
                    .map_err(|e| serde::de::Error::custom(format_args!("{key}: {e}"))),
            }
        };
        Ok(Self {
            correlation_id: id("correlation_id")?,
            causation_id: id("causation_id")?,
            custom,
        })
    }
}

/// An event to append. Its id makes appends idempotent: the same id with the same type and data
/// is a retry, with anything else a conflict.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub data: Box<RawValue>,
    pub metadata: EventMetadata,
}

impl NewEvent {
    pub fn new(
        event_id: Uuid,
        event_type: impl Into<String>,
        data: &impl Serialize,
        metadata: EventMetadata,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_id,
            event_type: event_type.into(),
            data: serde_json::value::to_raw_value(data)?,
            metadata,
        })
    }
}

/// An event as stored, with its stream revision, its place in the global order and the time the
/// store recorded it.
#[derive(Debug, Clone)]
pub struct RecordedEvent {
    pub stream_id: String,
    pub revision: u64,
    pub position: Position,
    pub event_id: Uuid,
    pub event_type: String,
    pub data: Box<RawValue>,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// The event's data as `T`.
    pub fn data_as<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.data.get())
    }
}

/// One row of `events` as every reader selects it.
#[derive(Debug)]
pub(crate) struct EventRow {
    pub position: i64,
    pub tx_id: String,
    pub stream_id: String,
    pub revision: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub data: String,
    pub metadata: String,
    pub recorded_at: DateTime<Utc>,
}

impl TryFrom<EventRow> for RecordedEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let malformed =
            |what: &str, detail: String| StoreError::Malformed(format!("event {}: {what}: {detail}", row.event_id));
        let tx_id = row.tx_id.parse().map_err(|_| malformed("tx_id", row.tx_id.clone()))?;
        let metadata = serde_json::from_str(&row.metadata).map_err(|e| malformed("metadata", e.to_string()))?;
        let data = RawValue::from_string(row.data).map_err(|e| malformed("data", e.to_string()))?;
        Ok(Self {
            position: Position {
                tx_id,
                position: u64::try_from(row.position).unwrap_or_default(),
            },
            revision: u64::try_from(row.revision).unwrap_or_default(),
            stream_id: row.stream_id,
            event_id: row.event_id,
            event_type: row.event_type,
            data,
            metadata,
            recorded_at: row.recorded_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_reads_back_as_written_with_its_ids_taken_out_of_the_custom_keys() {
        let written = EventMetadata {
            correlation_id: Some(Uuid::from_u128(1)),
            causation_id: None,
            custom: serde_json::json!({ "actor_id": "dc-1", "n": [1, {"a": null}] })
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let text = serde_json::to_string(&written).expect("serialises");
        assert_eq!(serde_json::from_str::<EventMetadata>(&text).expect("reads"), written);

        let read: EventMetadata = serde_json::from_str(
            r#"{"causation_id":null,"correlation_id":"00000000-0000-0000-0000-000000000002","k":1}"#,
        )
        .expect("reads");
        assert_eq!(read.correlation_id, Some(Uuid::from_u128(2)));
        assert_eq!(read.causation_id, None);
        assert_eq!(read.custom.keys().collect::<Vec<_>>(), ["k"]);

        let bad = serde_json::from_str::<EventMetadata>(r#"{"correlation_id":"not a uuid"}"#);
        assert!(bad.is_err_and(|e| e.to_string().contains("correlation_id")));
        assert!(serde_json::from_str::<EventMetadata>("[]").is_err());
    }
}
