//! For admins: the events a projection set aside after failing on them, and retrying or
//! skipping each.

use async_graphql::{Context, ID, SimpleObject};
use caseledger_cases::Role as DomainRole;
use caseledger_projections::parked;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{require, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// An event a projection failed on after its retries, set aside so the projection went on.
#[derive(SimpleObject, Debug, Clone)]
pub struct ParkedEvent {
    /// The projection that failed on it.
    pub projection: String,
    pub event_id: ID,
    pub stream_id: String,
    pub revision: i32,
    #[graphql(name = "type")]
    pub event_type: String,
    /// The projection's error, the last time it tried.
    pub error: String,
    pub attempts: i32,
    pub parked_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// `retried` (it succeeded on a retry) or `skipped`; null while unresolved.
    pub resolution: Option<String>,
}

impl From<caseledger_eventstore::ParkedEvent> for ParkedEvent {
    fn from(event: caseledger_eventstore::ParkedEvent) -> Self {
        Self {
            projection: event.subscriber,
            event_id: ID(event.event_id.to_string()),
            stream_id: event.stream_id,
            revision: i32::try_from(event.revision).unwrap_or(i32::MAX),
            event_type: event.event_type,
            error: event.error,
            attempts: i32::try_from(event.attempts).unwrap_or(i32::MAX),
            parked_at: event.parked_at,
            resolved_at: event.resolved_at,
            resolution: event.resolution,
        }
    }
}

const MAX_PARKED: i32 = 500;

fn admin<'a>(ctx: &Context<'a>, what: &str) -> ApiResult<()> {
    require(ctx, &[DomainRole::Admin], what).map(|_| ())
}

fn parse_event_id(id: &ID) -> ApiResult<Uuid> {
    Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_input("eventId", "not an event id"))
        .gql()
}

/// The parked event after a retry or skip.
async fn after(ctx: &Context<'_>, projection: &str, event_id: Uuid) -> ApiResult<ParkedEvent> {
    parked::get(&state(ctx).store, projection, event_id)
        .await
        .map_err(ApiError::from)
        .gql()?
        .map(Into::into)
        .ok_or_else(|| ApiError::NotFound("no such parked event".into()))
        .gql()
}

/// Events the projections set aside, unresolved first, newest first (of one projection, or of
/// all; at most `first`, up to 500). Admins only.
pub async fn parked_events(ctx: &Context<'_>, projection: Option<String>, first: i32) -> ApiResult<Vec<ParkedEvent>> {
    admin(ctx, "read parked events")?;
    if !(0..=MAX_PARKED).contains(&first) {
        return Err(ApiError::bad_input("first", format!("must be from 0 to {MAX_PARKED}"))).gql();
    }
    let events = parked::list(&state(ctx).store, projection.as_deref(), i64::from(first))
        .await
        .map_err(ApiError::from)
        .gql()?;
    Ok(events.into_iter().map(Into::into).collect())
}

/// What a list of parked events costs: each of `first` costs its selection.
pub fn parked_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = usize::try_from(first.unwrap_or(50).clamp(0, MAX_PARKED)).unwrap_or_default();
    1 + first.saturating_mul(child_complexity.max(1))
}

/// Hands a parked event to its projection again. Admins only.
pub async fn retry(ctx: &Context<'_>, projection: String, id: ID) -> ApiResult<ParkedEvent> {
    admin(ctx, "retry parked events")?;
    let event_id = parse_event_id(&id)?;
    parked::retry(&state(ctx).store, &projection, event_id)
        .await
        .map_err(ApiError::from)
        .gql()?;
    after(ctx, &projection, event_id).await
}

/// Leaves a parked event out of its projection for good. Admins only.
pub async fn skip(ctx: &Context<'_>, projection: String, id: ID) -> ApiResult<ParkedEvent> {
    admin(ctx, "skip parked events")?;
    let event_id = parse_event_id(&id)?;
    parked::skip(&state(ctx).store, &projection, event_id)
        .await
        .map_err(ApiError::from)
        .gql()?;
    after(ctx, &projection, event_id).await
}
