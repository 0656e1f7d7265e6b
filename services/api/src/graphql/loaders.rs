//! Per-case look-ups batched across a request: a page of 500 cases that each ask for their history
//! or their practice's latest observation makes one query of each kind, not 500.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use caseledger_cases::case::case_stream;
use caseledger_eventstore::{EventStore, RecordedEvent, StoreError};
use sqlx::PgPool;
use uuid::Uuid;

use super::case::Observation;
use super::scalars::Date;

/// The loaders every request shares (they batch; they do not cache between requests).
#[derive(Clone)]
pub struct Loaders {
    pub histories: Arc<DataLoader<HistoryLoader>>,
    pub observations: Arc<DataLoader<ObservationLoader>>,
}

impl std::fmt::Debug for Loaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaders").finish_non_exhaustive()
    }
}

impl Loaders {
    /// Create inside a Tokio runtime: batches are loaded on spawned tasks.
    pub fn new(store: &EventStore) -> Self {
        Self {
            histories: Arc::new(DataLoader::new(HistoryLoader { store: store.clone() }, tokio::spawn)),
            observations: Arc::new(DataLoader::new(
                ObservationLoader {
                    pool: store.pool().clone(),
                },
                tokio::spawn,
            )),
        }
    }
}

/// A case's recorded events, by case id.
pub struct HistoryLoader {
    store: EventStore,
}

impl Loader<Uuid> for HistoryLoader {
    type Value = Arc<Vec<RecordedEvent>>;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let streams: Vec<String> = keys.iter().map(|id| case_stream(*id)).collect();
        let events = self.store.read_streams(&streams).await.map_err(Arc::new)?;
        let mut by_case: HashMap<Uuid, Vec<RecordedEvent>> = HashMap::new();
        for event in events {
            if let Some(id) = event
                .stream_id
                .strip_prefix("case-")
                .and_then(|id| Uuid::parse_str(id).ok())
            {
                by_case.entry(id).or_default().push(event);
            }
        }
        Ok(by_case.into_iter().map(|(id, events)| (id, Arc::new(events))).collect())
    }
}

/// A practice's latest dashboard observation, by ODS code.
pub struct ObservationLoader {
    pool: PgPool,
}

impl Loader<String> for ObservationLoader {
    type Value = Observation;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = sqlx::query!(
            "select ods_code, report_date, visible_slots, required_slots, compliant
               from practice_view where ods_code = any($1)",
            keys
        )
        .fetch_all(&self.pool)
        .await
        .map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.ods_code,
                    Observation {
                        report_date: Date(r.report_date),
                        visible_slots: r.visible_slots,
                        required_slots: r.required_slots,
                        compliant: r.compliant,
                    },
                )
            })
            .collect())
    }
}
