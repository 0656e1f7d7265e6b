//! Words as the read models keep them: sealed, as they are in the log (so erasing a key erases
//! them here too). A surface that shows rows opens, in one batch, the words the lens lets its
//! reader see; the rest are never opened. Each row type says which words it holds and which event
//! and field each came from: the lens and the vault both go by those.

use caseledger_eventstore::{EventStore, StoreError};
use serde_json::Value;
use uuid::Uuid;

use crate::lens::{Reader, shows_field};

/// One sealed value a row holds.
#[derive(Debug)]
pub struct Sealed<'a> {
    /// The type of the event the words came from, and its field.
    pub event_type: &'static str,
    pub field: &'static str,
    /// The event's id: what the words were sealed with.
    pub event_id: Uuid,
    pub value: &'a mut Value,
}

impl<'a> Sealed<'a> {
    /// The words of `field` of `event_type`'s event `event_id`, when the row has both.
    pub fn of(
        event_type: &'static str,
        field: &'static str,
        event_id: Option<Uuid>,
        value: Option<&'a mut Value>,
    ) -> Option<Self> {
        Some(Self {
            event_type,
            field,
            event_id: event_id?,
            value: value?,
        })
    }
}

/// A read model's row that holds sealed words.
pub trait SealedWords {
    /// Each sealed value the row holds.
    fn sealed_words(&mut self) -> Vec<Sealed<'_>>;
}

/// Opens the words of `rows` that `viewer` may read, in one batch: each becomes its text, or
/// `"[erased]"` once its key is destroyed. What the lens hides from `viewer` stays sealed.
pub async fn open_for<R: SealedWords>(
    store: &EventStore,
    viewer: impl Into<Reader>,
    rows: &mut [R],
) -> Result<(), StoreError> {
    let viewer = viewer.into();
    let mut sealed: Vec<(Uuid, &str, &mut Value)> = rows
        .iter_mut()
        .flat_map(|row| row.sealed_words())
        .filter(|words| shows_field(viewer, words.event_type, words.field))
        .map(|words| (words.event_id, words.field, words.value))
        .collect();
    if sealed.is_empty() {
        return Ok(());
    }
    store.open_sealed_values(&mut sealed).await
}
