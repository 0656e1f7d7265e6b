//! Reading: one stream forwards or backwards, and `$all` or one category forwards from a
//! checkpoint, only ever past transactions that can no longer commit behind the reader.

use sqlx::PgConnection;

use crate::event::EventRow;
use crate::{EventStore, Position, RecordedEvent, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forwards,
    Backwards,
}

/// Where a stream read starts (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    Start,
    End,
    Revision(u64),
}

impl EventStore {
    /// Up to `limit` events of `stream` from `from`, honouring soft delete, `max_count` and
    /// `max_age`. A stream that never existed or was soft-deleted is `StreamNotFound`; a
    /// tombstoned one is `StreamDeleted`.
    #[tracing::instrument(name = "eventstore.read_stream", skip(self), fields(read))]
    pub async fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from: ReadFrom,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let events = read_stream_with(&mut conn, stream, direction, from, limit).await?;
        tracing::Span::current().record("read", events.len());
        Ok(events)
    }

    /// Up to `limit` events of every stream after `after`, in global order.
    #[tracing::instrument(name = "eventstore.read_all", skip(self), fields(read))]
    pub async fn read_all(&self, after: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query_as!(
            EventRow,
            r#"select e.position, e.tx_id::text as "tx_id!", e.stream_id, e.revision, e.event_id, e.event_type,
                      e.data::text as "data!", e.metadata::text as "metadata!", e.recorded_at
                 from events e
                where (e.tx_id, e.position) > ($1::text::xid8, $2::int8)
                  and e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
                order by e.tx_id, e.position
                limit $3"#,
            after.tx_id_text(),
            after.position_i64(),
            limit_i64(limit),
        )
        .fetch_all(&self.pool)
        .await?;
        tracing::Span::current().record("read", rows.len());
        rows.into_iter().map(RecordedEvent::try_from).collect()
    }

    /// Up to `limit` events of the streams named `<category>-…` after `after`, in global order.
    #[tracing::instrument(name = "eventstore.read_category", skip(self), fields(read))]
    pub async fn read_category(
        &self,
        category: &str,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query_as!(
            EventRow,
            r#"select e.position, e.tx_id::text as "tx_id!", e.stream_id, e.revision, e.event_id, e.event_type,
                      e.data::text as "data!", e.metadata::text as "metadata!", e.recorded_at
                 from events e
                where e.stream_id like $1
                  and (e.tx_id, e.position) > ($2::text::xid8, $3::int8)
                  and e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
                order by e.tx_id, e.position
                limit $4"#,
            category_pattern(category),
            after.tx_id_text(),
            after.position_i64(),
            limit_i64(limit),
        )
        .fetch_all(&self.pool)
        .await?;
        tracing::Span::current().record("read", rows.len());
        rows.into_iter().map(RecordedEvent::try_from).collect()
    }

    /// Every event of each of `streams`, forwards, in one round trip: grouped by stream, each in
    /// revision order, honouring each stream's metadata as [`EventStore::read_stream`] does. A
    /// stream that is absent or deleted simply has no events here.
    #[tracing::instrument(name = "eventstore.read_streams", skip_all, fields(streams = streams.len(), read))]
    pub async fn read_streams(&self, streams: &[String]) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let events = read_streams_with(&mut conn, streams).await?;
        tracing::Span::current().record("read", events.len());
        Ok(events)
    }

    /// A position to subscribe after for "from now on": past every transaction that has ended,
    /// before every one still in flight (whose events, committed later, are then delivered).
    pub async fn live_start(&self) -> Result<Position, StoreError> {
        let xmin = sqlx::query_scalar!(r#"select pg_snapshot_xmin(pg_current_snapshot())::text as "xmin!""#)
            .fetch_one(&self.pool)
            .await?;
        let tx_id: u64 = xmin
            .parse()
            .map_err(|_| StoreError::Malformed(format!("xmin {xmin}")))?;
        // Everything with a smaller tx_id has ended; positions start at 1.
        Ok(Position { tx_id, position: 0 })
    }

    /// The event with this id, wherever it is, if it was committed.
    pub async fn find_event(&self, event_id: uuid::Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let row = sqlx::query_as!(
            EventRow,
            r#"select e.position, e.tx_id::text as "tx_id!", e.stream_id, e.revision, e.event_id, e.event_type,
                      e.data::text as "data!", e.metadata::text as "metadata!", e.recorded_at
                 from events e
                where e.event_id = $1"#,
            event_id
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(RecordedEvent::try_from).transpose()
    }

    /// The events with these ids, those that exist, in global order.
    pub async fn find_events(&self, event_ids: &[uuid::Uuid]) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query_as!(
            EventRow,
            r#"select e.position, e.tx_id::text as "tx_id!", e.stream_id, e.revision, e.event_id, e.event_type,
                      e.data::text as "data!", e.metadata::text as "metadata!", e.recorded_at
                 from events e
                where e.event_id = any($1)
                order by e.tx_id, e.position"#,
            event_ids
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(RecordedEvent::try_from).collect()
    }

    /// Whether committed events exist that readers may not pass yet, because an older
    /// transaction is still in flight. A reader that gets an empty page retries soon when so.
    pub(crate) async fn events_held_back(&self, category: Option<&str>) -> Result<bool, StoreError> {
        let held = match category {
            None => {
                // Ordered by the primary key with a limit, so it is an index probe even before the
                // table has statistics (an `exists` planned as a scan read 1M rows to find none).
                sqlx::query_scalar!(
                    r#"select (select e.tx_id from events e
                                where e.tx_id >= pg_snapshot_xmin(pg_current_snapshot())
                                order by e.tx_id, e.position limit 1) is not null as "held!""#
                )
                .fetch_one(&self.pool)
                .await?
            }
            Some(category) => {
                sqlx::query_scalar!(
                    r#"select (select e.tx_id from events e
                                where e.stream_id like $1
                                  and e.tx_id >= pg_snapshot_xmin(pg_current_snapshot())
                                order by e.tx_id, e.position limit 1) is not null as "held!""#,
                    category_pattern(category)
                )
                .fetch_one(&self.pool)
                .await?
            }
        };
        Ok(held)
    }
}

/// [`EventStore::read_streams`] on the caller's connection or transaction.
pub async fn read_streams_with(conn: &mut PgConnection, streams: &[String]) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.position, e.tx_id::text as "tx_id!", e.stream_id, e.revision, e.event_id, e.event_type,
                      e.data::text as "data!", e.metadata::text as "metadata!", e.recorded_at
                 from events e
                 left join streams s on s.stream_id = e.stream_id
                where e.stream_id = any($1)
                  and (s.stream_id is null
                       or (e.revision >= s.truncate_before and not s.soft_deleted and not s.tombstoned
                           and (s.max_count is null
                                or e.revision > (select max(l.revision) from events l where l.stream_id = e.stream_id)
                                                - s.max_count)
                           and (s.max_age_seconds is null
                                or e.recorded_at > now() - interval '1 second' * s.max_age_seconds)))
                order by e.stream_id, e.revision"#,
        streams,
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(RecordedEvent::try_from).collect()
}

/// [`EventStore::read_stream`] on the caller's connection or transaction.
pub async fn read_stream_with(
    conn: &mut PgConnection,
    stream: &str,
    direction: Direction,
    from: ReadFrom,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let from = match from {
        ReadFrom::Start => 0,
        ReadFrom::End => i64::MAX,
        ReadFrom::Revision(revision) => i64::try_from(revision).unwrap_or(i64::MAX),
    };
    let rows = match direction {
        Direction::Forwards => {
            sqlx::query_as!(
                EventRow,
                r#"select e.position, e.tx_id::text as "tx_id!", e.stream_id, e.revision, e.event_id, e.event_type,
                          e.data::text as "data!", e.metadata::text as "metadata!", e.recorded_at
                     from events e
                     left join streams s on s.stream_id = e.stream_id
                    where e.stream_id = $1 and e.revision >= $2
                      and (s.stream_id is null
                           or (e.revision >= s.truncate_before and not s.soft_deleted and not s.tombstoned
                               and (s.max_count is null
                                    or e.revision > (select max(l.revision) from events l where l.stream_id = $1)
                                                    - s.max_count)
                               and (s.max_age_seconds is null
                                    or e.recorded_at > now() - interval '1 second' * s.max_age_seconds)))
                    order by e.revision
                    limit $3"#,
                stream,
                from,
                limit_i64(limit),
            )
            .fetch_all(&mut *conn)
            .await?
        }
        Direction::Backwards => {
            sqlx::query_as!(
                EventRow,
                r#"select e.position, e.tx_id::text as "tx_id!", e.stream_id, e.revision, e.event_id, e.event_type,
                          e.data::text as "data!", e.metadata::text as "metadata!", e.recorded_at
                     from events e
                     left join streams s on s.stream_id = e.stream_id
                    where e.stream_id = $1 and e.revision <= $2
                      and (s.stream_id is null
                           or (e.revision >= s.truncate_before and not s.soft_deleted and not s.tombstoned
                               and (s.max_count is null
                                    or e.revision > (select max(l.revision) from events l where l.stream_id = $1)
                                                    - s.max_count)
                               and (s.max_age_seconds is null
                                    or e.recorded_at > now() - interval '1 second' * s.max_age_seconds)))
                    order by e.revision desc
                    limit $3"#,
                stream,
                from,
                limit_i64(limit),
            )
            .fetch_all(&mut *conn)
            .await?
        }
    };
    if rows.is_empty() {
        check_stream_readable(conn, stream).await?;
    }
    rows.into_iter().map(RecordedEvent::try_from).collect()
}

/// Tells an empty read of a live stream from a stream that is absent or deleted.
async fn check_stream_readable(conn: &mut PgConnection, stream: &str) -> Result<(), StoreError> {
    let state = sqlx::query!(
        r#"select exists (select 1 from events e where e.stream_id = $1) as "has_events!",
                  coalesce(s.soft_deleted, false) as "soft_deleted!", coalesce(s.tombstoned, false) as "tombstoned!"
             from (select 1) one
             left join streams s on s.stream_id = $1"#,
        stream
    )
    .fetch_one(conn)
    .await?;
    if state.tombstoned {
        Err(StoreError::StreamDeleted {
            stream: stream.to_string(),
        })
    } else if state.has_events && !state.soft_deleted {
        Ok(())
    } else {
        Err(StoreError::StreamNotFound {
            stream: stream.to_string(),
        })
    }
}

/// A `like` pattern for the streams named `<category>-…`.
fn category_pattern(category: &str) -> String {
    let escaped = category.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("{escaped}-%")
}

fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
