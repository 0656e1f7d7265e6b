//! Helpers shared by the store's test files.

#![allow(clippy::unwrap_used)] // a test should fail loudly where it went wrong
#![allow(dead_code)]

use caseledger_eventstore::{EventMetadata, EventStore, NewEvent};
use caseledger_testsupport::{TestDb, fresh_db};
use uuid::Uuid;

pub async fn store() -> (EventStore, TestDb) {
    let db = fresh_db().await;
    (EventStore::new(db.pool.clone()), db)
}

pub fn event(event_type: &str, data: serde_json::Value) -> NewEvent {
    NewEvent::new(Uuid::now_v7(), event_type, &data, EventMetadata::default()).expect("serialisable")
}

pub fn events(n: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| event("NoteAdded", serde_json::json!({ "text": format!("note {i}") })))
        .collect()
}

pub fn stream() -> String {
    format!("case-{}", Uuid::now_v7())
}
