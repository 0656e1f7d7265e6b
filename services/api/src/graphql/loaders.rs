//! Per-case look-ups batched across a request: a page of 500 cases that each ask for their history
//! or their practice's latest observation makes one query of each kind, not 500.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use caseledger_cases::case::{case_stream, contract_stream};
use caseledger_eventstore::{EventStore, RecordedEvent, StoreError};
use caseledger_projections::answer_view::AnswerRow;
use caseledger_projections::practice_view::VerificationRow;
use sqlx::PgPool;
use uuid::Uuid;

use super::case::Observation;
use super::scalars::Date;

/// The loaders every request shares (they batch; they do not cache between requests).
#[derive(Clone)]
pub struct Loaders {
    /// Streams by name: cases' histories and contract reviews.
    pub streams: Arc<DataLoader<StreamLoader>>,
    pub observations: Arc<DataLoader<ObservationLoader>>,
    /// Practices' latest GP Connect verifications.
    pub verifications: Arc<DataLoader<VerificationLoader>>,
    /// Cases' latest answers from their practices, words opened.
    pub answers: Arc<DataLoader<AnswerLoader>>,
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
            streams: Arc::new(DataLoader::new(StreamLoader { store: store.clone() }, tokio::spawn)),
            observations: Arc::new(DataLoader::new(
                ObservationLoader {
                    pool: store.pool().clone(),
                },
                tokio::spawn,
            )),
            verifications: Arc::new(DataLoader::new(
                VerificationLoader {
                    pool: store.pool().clone(),
                },
                tokio::spawn,
            )),
            answers: Arc::new(DataLoader::new(AnswerLoader { store: store.clone() }, tokio::spawn)),
        }
    }
}

impl Loaders {
    /// The events of the case's own stream.
    pub async fn history(&self, case_id: Uuid) -> Result<Arc<Vec<RecordedEvent>>, Arc<StoreError>> {
        Ok(self.streams.load_one(case_stream(case_id)).await?.unwrap_or_default())
    }

    /// The events of the case's contract review.
    pub async fn contract(&self, case_id: Uuid) -> Result<Arc<Vec<RecordedEvent>>, Arc<StoreError>> {
        Ok(self
            .streams
            .load_one(contract_stream(case_id))
            .await?
            .unwrap_or_default())
    }
}

/// Streams' recorded events, by stream name.
pub struct StreamLoader {
    store: EventStore,
}

impl Loader<String> for StreamLoader {
    type Value = Arc<Vec<RecordedEvent>>;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        // Histories are shown: personal fields opened, or erased.
        let by_stream = caseledger_projections::history::streams(&self.store, keys)
            .await
            .map_err(Arc::new)?;
        Ok(by_stream
            .into_iter()
            .map(|(name, events)| (name, Arc::new(events)))
            .collect())
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
        let rows = caseledger_projections::practice_view::latest_observations(&self.pool, keys)
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

/// A practice's latest GP Connect verification, by ODS code.
pub struct VerificationLoader {
    pool: PgPool,
}

impl Loader<String> for VerificationLoader {
    type Value = Arc<VerificationRow>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = caseledger_projections::practice_view::latest_verifications(&self.pool, keys)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.ods_code.clone(), Arc::new(r))).collect())
    }
}

/// A case's latest answers from its practice (oldest first), words opened (or erased), by case.
pub struct AnswerLoader {
    store: EventStore,
}

impl Loader<Uuid> for AnswerLoader {
    type Value = Arc<Vec<AnswerRow>>;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = caseledger_projections::answer_view::opened(&self.store, keys, super::own_cases::MAX_ANSWERS)
            .await
            .map_err(Arc::new)?;
        let mut by_case: HashMap<Uuid, Vec<AnswerRow>> = HashMap::new();
        for row in rows {
            by_case.entry(row.case_id).or_default().push(row);
        }
        Ok(by_case.into_iter().map(|(id, rows)| (id, Arc::new(rows))).collect())
    }
}
