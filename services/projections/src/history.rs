//! Cases' histories as the resolvers read them: streams read in one query and their personal
//! fields opened (or shown erased), and a case's contract reviews folded from its contract stream
//! through the reader's lens. The resolvers ask here; they do not reach the store themselves.

use std::collections::HashMap;

use caseledger_cases::Role;
use caseledger_cases::case::ReviewOutcome;
use caseledger_eventstore::{EventStore, RecordedEvent, StoreError};
use chrono::{DateTime, Utc};

use crate::lens::{Reader, lens};

/// The recorded events of each of `names` (streams with none are left out), personal fields
/// opened, or erased.
pub async fn streams(store: &EventStore, names: &[String]) -> Result<HashMap<String, Vec<RecordedEvent>>, StoreError> {
    let mut events = store.read_streams(names).await?;
    store.open_sealed(&mut events).await?;
    let mut by_stream: HashMap<String, Vec<RecordedEvent>> = HashMap::new();
    for event in events {
        by_stream.entry(event.stream_id.clone()).or_default().push(event);
    }
    Ok(by_stream)
}

/// One contract review of a case, as a reader may see it: the ICB (and admins) whole; the others
/// that it happened and when, never who, why, its outcome or note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContractReview {
    pub escalated_at: Option<DateTime<Utc>>,
    pub escalated_by: Option<String>,
    pub reason: Option<String>,
    pub concluded_at: Option<DateTime<Utc>>,
    pub concluded_by: Option<String>,
    pub outcome: Option<ReviewOutcome>,
    pub note: Option<String>,
}

/// The reviews in `events` (a case's contract stream) as `reader` sees them.
pub fn contract_reviews(events: &[RecordedEvent], reader: Reader) -> Vec<ContractReview> {
    let icb = matches!(reader.role(), Role::Icb | Role::Admin);
    let text = |data: &serde_json::Value, key: &str| data[key].as_str().map(str::to_string);
    let mut reviews: Vec<ContractReview> = Vec::new();
    for event in events.iter().filter_map(|e| lens(reader, e)) {
        let by = event.actor_id.clone().filter(|_| icb);
        match event.event_type.as_str() {
            "EscalatedToContractReview" => reviews.push(ContractReview {
                escalated_at: Some(event.occurred_at),
                escalated_by: by,
                reason: text(&event.data, "reason"),
                ..ContractReview::default()
            }),
            "ContractReviewConcluded" => {
                if let Some(review) = reviews.last_mut() {
                    review.concluded_at = Some(event.occurred_at);
                    review.concluded_by = by;
                    review.outcome = serde_json::from_value::<ReviewOutcome>(event.data["outcome"].clone()).ok();
                    review.note = text(&event.data, "note");
                }
            }
            _ => {}
        }
    }
    reviews
}
