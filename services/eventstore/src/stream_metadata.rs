//! Per-stream settings: how many or how old events reads return, soft delete and tombstone.

use std::time::Duration;

use crate::{EventStore, ExpectedRevision, StoreError};

/// Read limits for one stream; `None` means no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamMetadata {
    /// Reads return at most the last `max_count` events.
    pub max_count: Option<u64>,
    /// Reads skip events recorded longer ago than this.
    pub max_age: Option<Duration>,
    /// Anything else the owner wants to keep with the stream.
    pub custom: serde_json::Value,
}

impl EventStore {
    #[tracing::instrument(name = "eventstore.set_stream_metadata", skip(self))]
    pub async fn set_stream_metadata(&self, stream: &str, metadata: &StreamMetadata) -> Result<(), StoreError> {
        let max_count = metadata.max_count.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let max_age = metadata
            .max_age
            .map(|age| i64::try_from(age.as_secs().max(1)).unwrap_or(i64::MAX));
        let custom = if metadata.custom.is_null() {
            serde_json::json!({})
        } else {
            metadata.custom.clone()
        };
        sqlx::query!(
            "insert into streams (stream_id, max_count, max_age_seconds, custom_metadata) values ($1, $2, $3, $4)
             on conflict (stream_id) do update
                set max_count = excluded.max_count, max_age_seconds = excluded.max_age_seconds,
                    custom_metadata = excluded.custom_metadata",
            stream,
            max_count,
            max_age,
            custom,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn stream_metadata(&self, stream: &str) -> Result<StreamMetadata, StoreError> {
        let row = sqlx::query!(
            "select max_count, max_age_seconds, custom_metadata from streams where stream_id = $1",
            stream
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map_or_else(StreamMetadata::default, |row| StreamMetadata {
            max_count: row.max_count.and_then(|n| u64::try_from(n).ok()),
            max_age: row
                .max_age_seconds
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs),
            custom: row.custom_metadata,
        }))
    }

    /// Soft delete: the stream reads as absent; a later append continues after its last revision
    /// and reads then show only the new events.
    #[tracing::instrument(name = "eventstore.delete_stream", skip(self))]
    pub async fn delete_stream(&self, stream: &str, expected: ExpectedRevision) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let last = lock_and_check(&mut tx, stream, expected).await?;
        let truncate_before = last.map_or(0, |revision| {
            i64::try_from(revision).unwrap_or(i64::MAX).saturating_add(1)
        });
        sqlx::query!(
            "insert into streams (stream_id, soft_deleted, truncate_before) values ($1, true, $2)
             on conflict (stream_id) do update set soft_deleted = true, truncate_before = excluded.truncate_before",
            stream,
            truncate_before,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Hard delete: the stream is gone for good and every later append fails with `StreamDeleted`.
    #[tracing::instrument(name = "eventstore.tombstone_stream", skip(self))]
    pub async fn tombstone_stream(&self, stream: &str, expected: ExpectedRevision) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_and_check(&mut tx, stream, expected).await?;
        sqlx::query!(
            "insert into streams (stream_id, tombstoned) values ($1, true)
             on conflict (stream_id) do update set tombstoned = true",
            stream
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Takes the stream's lock (the one appends take, see the migration) and checks `expected`;
/// returns the stream's last revision while it is not soft-deleted.
async fn lock_and_check(
    conn: &mut sqlx::PgConnection,
    stream: &str,
    expected: ExpectedRevision,
) -> Result<Option<u64>, StoreError> {
    sqlx::query_scalar!("select pg_advisory_xact_lock(hashtextextended($1, 0))", stream)
        .fetch_one(&mut *conn)
        .await?;
    let row = sqlx::query!(
        r#"select (select max(e.revision) from events e where e.stream_id = $1) as last_revision,
                  coalesce(s.soft_deleted, false) as "soft_deleted!", coalesce(s.tombstoned, false) as "tombstoned!"
             from (select 1) one
             left join streams s on s.stream_id = $1"#,
        stream
    )
    .fetch_one(&mut *conn)
    .await?;
    if row.tombstoned {
        return Err(StoreError::StreamDeleted {
            stream: stream.to_string(),
        });
    }
    let actual = row
        .last_revision
        .filter(|_| !row.soft_deleted)
        .and_then(|r| u64::try_from(r).ok());
    let holds = match expected {
        ExpectedRevision::Any => true,
        ExpectedRevision::NoStream => actual.is_none(),
        ExpectedRevision::StreamExists => actual.is_some(),
        ExpectedRevision::Exact(revision) => actual == Some(revision),
    };
    if holds {
        Ok(actual)
    } else {
        Err(StoreError::WrongExpectedVersion {
            stream: stream.to_string(),
            expected,
            actual,
        })
    }
}
