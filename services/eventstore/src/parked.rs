//! Parked events: what a named subscriber could not handle after retries, with the error. An
//! admin lists them, retries one through the subscriber's handler once its cause is fixed, or
//! skips it; either way it is kept, resolved, as a record.

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::handler::{EventHandler, HandlerError};
use crate::{EventStore, RecordedEvent, StoreError};

/// One parked event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParkedEvent {
    pub subscriber: String,
    pub event_id: Uuid,
    pub stream_id: String,
    pub revision: u64,
    pub event_type: String,
    pub error: String,
    pub attempts: u32,
    pub parked_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// `retried` or `skipped`, once resolved.
    pub resolution: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ParkedError {
    #[error("no unresolved parked event {event_id} of subscriber {subscriber}")]
    NotFound { subscriber: String, event_id: Uuid },
    #[error("the event still fails: {0}")]
    StillFails(HandlerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) async fn park(
    tx: &mut PgConnection,
    subscriber: &str,
    event: &RecordedEvent,
    error: &str,
    attempts: u32,
) -> Result<(), StoreError> {
    sqlx::query!(
        "insert into parked_events (subscriber, event_id, tx_id, position, stream_id, revision, event_type, error, attempts)
         values ($1, $2, $3::text::xid8, $4, $5, $6, $7, $8, $9)
         on conflict (subscriber, event_id) do update
            set error = excluded.error, attempts = parked_events.attempts + excluded.attempts,
                parked_at = now(), resolved_at = null, resolution = null",
        subscriber,
        event.event_id,
        event.position.tx_id.to_string(),
        i64::try_from(event.position.position).unwrap_or(i64::MAX),
        event.stream_id,
        i64::try_from(event.revision).unwrap_or(i64::MAX),
        event.event_type,
        error,
        i32::try_from(attempts).unwrap_or(i32::MAX),
    )
    .execute(tx)
    .await?;
    Ok(())
}

impl EventStore {
    /// Parked events, unresolved first, newest first (of `subscriber`, or of all).
    pub async fn parked_events(&self, subscriber: Option<&str>, limit: i64) -> Result<Vec<ParkedEvent>, StoreError> {
        let rows = sqlx::query!(
            "select subscriber, event_id, stream_id, revision, event_type, error, attempts, parked_at, resolved_at,
                    resolution
               from parked_events
              where $1::text is null or subscriber = $1
              order by resolved_at is not null, parked_at desc
              limit $2",
            subscriber,
            limit
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ParkedEvent {
                subscriber: row.subscriber,
                event_id: row.event_id,
                stream_id: row.stream_id,
                revision: u64::try_from(row.revision).unwrap_or_default(),
                event_type: row.event_type,
                error: row.error,
                attempts: u32::try_from(row.attempts).unwrap_or_default(),
                parked_at: row.parked_at,
                resolved_at: row.resolved_at,
                resolution: row.resolution,
            })
            .collect())
    }

    /// How many events each subscriber has parked and not resolved.
    pub async fn unresolved_parked(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query!(
            r#"select subscriber, count(*) as "count!" from parked_events where resolved_at is null group by subscriber"#
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.subscriber, u64::try_from(row.count).unwrap_or_default()))
            .collect())
    }

    /// Hands the parked event to `handler` again (out of its order in the log: a handler that
    /// folds state may need a rebuild afterwards); resolved as `retried` if it succeeds.
    pub async fn retry_parked<H: EventHandler>(
        &self,
        subscriber: &str,
        event_id: Uuid,
        handler: &H,
    ) -> Result<(), ParkedError> {
        self.unresolved(subscriber, event_id).await?;
        let event = self.find_event(event_id).await?.ok_or_else(|| ParkedError::NotFound {
            subscriber: subscriber.to_string(),
            event_id,
        })?;
        let mut conn = self.pool.acquire().await.map_err(StoreError::from)?;
        let mut tx = conn.begin().await.map_err(StoreError::from)?;
        if let Err(error) = crate::handler::guarded(handler.handle(&mut tx, &event)).await {
            drop(tx);
            sqlx::query!(
                "update parked_events set error = $3, attempts = attempts + 1 where subscriber = $1 and event_id = $2",
                subscriber,
                event_id,
                error.to_string()
            )
            .execute(&self.pool)
            .await
            .map_err(StoreError::from)?;
            return Err(ParkedError::StillFails(error));
        }
        resolve(&mut tx, subscriber, event_id, "retried").await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Marks the parked event skipped: the subscriber's state goes without it.
    pub async fn skip_parked(&self, subscriber: &str, event_id: Uuid) -> Result<(), ParkedError> {
        self.unresolved(subscriber, event_id).await?;
        let mut conn = self.pool.acquire().await.map_err(StoreError::from)?;
        resolve(&mut conn, subscriber, event_id, "skipped").await?;
        Ok(())
    }

    async fn unresolved(&self, subscriber: &str, event_id: Uuid) -> Result<(), ParkedError> {
        let found = sqlx::query_scalar!(
            r#"select exists (select 1 from parked_events where subscriber = $1 and event_id = $2 and resolved_at is null) as "found!""#,
            subscriber,
            event_id
        )
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::from)?;
        if found {
            Ok(())
        } else {
            Err(ParkedError::NotFound {
                subscriber: subscriber.to_string(),
                event_id,
            })
        }
    }
}

async fn resolve(conn: &mut PgConnection, subscriber: &str, event_id: Uuid, how: &str) -> Result<(), StoreError> {
    sqlx::query!(
        "update parked_events set resolved_at = now(), resolution = $3 where subscriber = $1 and event_id = $2",
        subscriber,
        event_id,
        how
    )
    .execute(conn)
    .await?;
    Ok(())
}
