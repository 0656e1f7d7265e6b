//! The projections' parked events, for an admin: an event a projection failed on after its
//! retries is set aside (the projection goes on without it); the admin reads why, and retries it
//! once the cause is mended or skips it for good.

use caseledger_eventstore::{EventStore, ParkedError, ParkedEvent};
use uuid::Uuid;

use crate::registry::Projection;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no projection is named {0:?}")]
    UnknownProjection(String),
    #[error(transparent)]
    Parked(#[from] ParkedError),
}

fn projection(name: &str) -> Result<Projection, AdminError> {
    Projection::parse(name).ok_or_else(|| AdminError::UnknownProjection(name.to_string()))
}

/// Parked events, unresolved first, newest first: of one projection, or of all.
pub async fn list(store: &EventStore, name: Option<&str>, limit: i64) -> Result<Vec<ParkedEvent>, AdminError> {
    if let Some(name) = name {
        projection(name)?;
    }
    let events = store.parked_events(name, limit).await.map_err(ParkedError::from)?;
    Ok(events
        .into_iter()
        .filter(|event| Projection::parse(&event.subscriber).is_some())
        .collect())
}

/// Hands the event to its projection again; resolved if it now succeeds.
pub async fn retry(store: &EventStore, name: &str, event_id: Uuid) -> Result<(), AdminError> {
    let projection = projection(name)?;
    store.retry_parked(name, event_id, projection.handler()).await?;
    Ok(())
}

/// Leaves the event out of its projection for good.
pub async fn skip(store: &EventStore, name: &str, event_id: Uuid) -> Result<(), AdminError> {
    projection(name)?;
    store.skip_parked(name, event_id).await?;
    Ok(())
}

/// The parked event, as it stands now.
pub async fn get(store: &EventStore, name: &str, event_id: Uuid) -> Result<Option<ParkedEvent>, AdminError> {
    Ok(list(store, Some(name), i64::MAX)
        .await?
        .into_iter()
        .find(|event| event.event_id == event_id))
}
