//! Read models of the event log, one module each, kept by named subscribers whose checkpoints
//! commit with their rows; the runner that keeps them; and the per-role lens over a case's history.

pub mod answer_view;
pub mod calls_view;
pub mod case_view;
mod declared;
pub mod dhu_report_view;
pub mod diversion_view;
pub mod dos_view;
pub mod figures;
pub mod history;
pub mod lens;
pub mod live;
pub mod parked;
pub mod practice_view;
pub mod read_back;
pub mod reads;
pub mod rebuild;
pub mod registry;
pub mod runner;
pub mod telephony_view;
pub mod timeline;
pub mod words;

pub use reads::Reads;
pub use rebuild::{RebuildError, Rebuilt, rebuild, rebuild_in_pages};
pub use registry::{NAMES, Projection};
pub use runner::{Projections, wait_for_position, wait_for_projections, wait_for_readers};

/// The domain's view of a recorded event, for the read models.
pub(crate) fn envelope_of(
    event: &caseledger_eventstore::RecordedEvent,
) -> Result<caseledger_cases::EventEnvelope, caseledger_eventstore::HandlerError> {
    Ok(caseledger_cases::case::envelope(
        &event.event_type,
        event.data.get(),
        &event.metadata.custom,
    )?)
}

/// Rows a query returned as JSON objects (`to_jsonb` of the row), as their Rust type.
pub(crate) fn decode_rows<T: serde::de::DeserializeOwned>(rows: Vec<serde_json::Value>) -> Result<Vec<T>, sqlx::Error> {
    rows.into_iter()
        .map(|row| serde_json::from_value(row).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .collect()
}
