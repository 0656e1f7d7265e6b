//! Appending: one call of `eventstore_append` (see the migration) per append, so one round trip
//! that locks only the stream's row.

use std::fmt;

use sqlx::PgConnection;

use crate::{EventStore, NewEvent, Position, StoreError};

/// What the writer believes about the stream, checked under the stream's row lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedRevision {
    /// No check.
    Any,
    /// The stream has no events (or was soft-deleted).
    NoStream,
    /// The stream has at least one event.
    StreamExists,
    /// The stream's last event has this revision.
    Exact(u64),
}

impl fmt::Display for ExpectedRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any revision"),
            Self::NoStream => f.write_str("no stream"),
            Self::StreamExists => f.write_str("an existing stream"),
            Self::Exact(revision) => write!(f, "revision {revision}"),
        }
    }
}

/// The outcome of a successful append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendResult {
    /// The revision of the stream's last event after the append: the next `Exact` to expect.
    pub revision: u64,
    /// Each appended event's place in the global order, in the order given.
    pub positions: Vec<Position>,
    /// These events were appended before (same ids, same content): nothing was written now.
    pub duplicate: bool,
}

impl EventStore {
    /// Appends `events` to `stream` if `expected` holds, in a transaction of its own, then wakes
    /// live subscribers.
    #[tracing::instrument(name = "eventstore.append", skip(self, events), fields(count = events.len()))]
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        events: &[NewEvent],
    ) -> Result<AppendResult, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let result = append_with(&mut conn, stream, expected, events).await?;
        if !result.duplicate {
            self.notifier.poke();
        }
        Ok(result)
    }
}

/// Appends inside the caller's connection or transaction (pass `&mut *tx`), so other writes can
/// commit together with the events. Call [`EventStore::wake_subscribers`] after the commit.
///
/// The append must be the transaction's first write (make the other writes after it), and a
/// transaction appends to one stream: the global order is the order in which transactions got
/// their ids, and only then does it agree with each stream's revisions.
pub async fn append_with(
    conn: &mut PgConnection,
    stream: &str,
    expected: ExpectedRevision,
    events: &[NewEvent],
) -> Result<AppendResult, StoreError> {
    append_one(conn, stream, expected, events, false).await
}

/// One append of a batch: what the caller expects of one stream, and the events for it.
#[derive(Debug, Clone)]
pub struct StreamAppend {
    pub stream: String,
    pub expected: ExpectedRevision,
    pub events: Vec<NewEvent>,
}

/// Appends to many streams in the caller's transaction, for bulk work such as a dashboard import.
/// Every stream's lock is taken first, before the transaction's first write, so global order
/// still agrees with each stream's revisions; so, as with [`append_with`], the batch must come
/// before any other write of the transaction. The first failing append fails the batch: roll
/// the transaction back.
pub async fn append_batch(conn: &mut PgConnection, appends: &[StreamAppend]) -> Result<Vec<AppendResult>, StoreError> {
    let streams: Vec<&str> = appends.iter().map(|a| a.stream.as_str()).collect();
    let locked = sqlx::query_scalar!(
        r#"select eventstore_lock_streams($1) as "locked!""#,
        &streams as &[&str]
    )
    .fetch_one(&mut *conn)
    .await?;
    if !locked {
        return Err(StoreError::NotFirstWrite);
    }
    let mut results = Vec::with_capacity(appends.len());
    for append in appends {
        results.push(append_one(conn, &append.stream, append.expected, &append.events, true).await?);
    }
    Ok(results)
}

async fn append_one(
    conn: &mut PgConnection,
    stream: &str,
    expected: ExpectedRevision,
    events: &[NewEvent],
    already_locked: bool,
) -> Result<AppendResult, StoreError> {
    if stream.is_empty() || stream.starts_with('$') {
        return Err(StoreError::InvalidStreamName(stream.to_string()));
    }
    if events.is_empty() {
        return Err(StoreError::EmptyAppend);
    }
    let (kind, expected_revision) = match expected {
        ExpectedRevision::Any => ("any", None),
        ExpectedRevision::NoStream => ("no_stream", None),
        ExpectedRevision::StreamExists => ("stream_exists", None),
        ExpectedRevision::Exact(revision) => ("exact", Some(i64::try_from(revision).unwrap_or(i64::MAX))),
    };
    let ids: Vec<_> = events.iter().map(|e| e.event_id).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let data: Vec<&str> = events.iter().map(|e| e.data.get()).collect();
    let metadata = events
        .iter()
        .map(|e| serde_json::to_string(&e.metadata))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Malformed(format!("metadata: {e}")))?;

    let plain = match (expected, already_locked) {
        (ExpectedRevision::NoStream | ExpectedRevision::Exact(_), false) => {
            append_plain(conn, stream, expected_revision, &ids, &types, &data, &metadata).await?
        }
        _ => None,
    };
    let row = match plain {
        Some(row) => row,
        None => {
            let row = sqlx::query!(
                r#"select outcome as "outcome!", stream_revision as "stream_revision!", transaction_id, positions
             from eventstore_append($1, $2, $3, $4, $5, $6::text[]::jsonb[], $7::text[]::jsonb[], $8)"#,
                stream,
                kind,
                expected_revision,
                &ids,
                &types as &[&str],
                &data as &[&str],
                &metadata,
                already_locked,
            )
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| match &e {
                // Another stream took one of these ids in a concurrent transaction.
                sqlx::Error::Database(db) if db.constraint() == Some("events_event_id_unique") => {
                    StoreError::EventIdConflict { event_id: None }
                }
                _ => StoreError::Database(e),
            })?;
            Outcome {
                outcome: row.outcome,
                stream_revision: row.stream_revision,
                transaction_id: row.transaction_id,
                positions: row.positions,
            }
        }
    };

    let actual = u64::try_from(row.stream_revision).ok();
    record_append(stream, &row.outcome, events.len());
    match row.outcome.as_str() {
        "ok" | "duplicate" => {
            let tx_id = row
                .transaction_id
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| StoreError::Malformed("append returned no transaction id".into()))?;
            let positions = row
                .positions
                .unwrap_or_default()
                .into_iter()
                .map(|p| Position {
                    tx_id,
                    position: u64::try_from(p).unwrap_or_default(),
                })
                .collect();
            let revision = actual.ok_or_else(|| StoreError::Malformed("append returned no revision".into()))?;
            tracing::debug!(revision, duplicate = row.outcome == "duplicate", "appended");
            Ok(AppendResult {
                revision,
                positions,
                duplicate: row.outcome == "duplicate",
            })
        }
        "wrong_expected_version" => Err(StoreError::WrongExpectedVersion {
            stream: stream.to_string(),
            expected,
            actual,
        }),
        "stream_deleted" => Err(StoreError::StreamDeleted {
            stream: stream.to_string(),
        }),
        "not_first_write" => Err(StoreError::NotFirstWrite),
        "event_id_conflict" => Err(first_conflicting_id(conn, events).await),
        other => Err(StoreError::Malformed(format!("unknown append outcome {other}"))),
    }
}

/// What an append came to, as `eventstore_append` answers.
struct Outcome {
    outcome: String,
    stream_revision: i64,
    transaction_id: Option<String>,
    positions: Option<Vec<i64>>,
}

/// An append whose revisions are known before it runs (`NoStream`: from 0; `Exact(n)`: from
/// n + 1) as one plain insert: the stream's lock in shared mode (plain appends do not wait for
/// each other; an `Any` append, a delete or a metadata change still excludes them), no function.
/// The unique `(stream_id, revision)` index decides a lost race and the unique `event_id` a
/// retry; either way nothing is written and the earlier append or the actual revision answers.
/// Revision order and global order still agree: an appender names revision n + 1 only after it
/// has seen revision n committed, and its transaction gets its id at this insert, after that.
///
/// `None` when the append must take the locking path: the stream has settings (a soft delete,
/// a tombstone, limits), the expected revision is not (yet) the stream's, or the transaction has
/// written before.
async fn append_plain(
    conn: &mut PgConnection,
    stream: &str,
    expected_revision: Option<i64>,
    ids: &[uuid::Uuid],
    types: &[&str],
    data: &[&str],
    metadata: &[String],
) -> Result<Option<Outcome>, StoreError> {
    let row = sqlx::query!(
        r#"with locked as materialized (
               select pg_current_xact_id_if_assigned() is null as first_write,
                      pg_advisory_xact_lock_shared(hashtextextended($1, 0)) is null as locked
           ),
           guard as materialized (
               select l.first_write and eventstore_plain_append_ok($1, $2) as ok from locked l
           ),
           inserted as (
               insert into events (stream_id, revision, event_id, event_type, data, metadata)
               select $1, coalesce($2, -1) + u.ord, u.event_id, u.event_type, u.data, u.metadata
                 from guard g
                cross join unnest($3::uuid[], $4::text[], $5::text[]::jsonb[], $6::text[]::jsonb[])
                      with ordinality as u(event_id, event_type, data, metadata, ord)
                where g.ok
                order by u.ord
               on conflict do nothing
               returning events.position, events.revision, events.tx_id
           ),
           written as materialized (
               select count(*) as n, array_agg(i.position order by i.revision) as positions,
                      min(i.tx_id::text) as tx_id
                 from inserted i
           )
           select g.ok as "ok!",
                  case when w.n > 0 and w.n < cardinality($3::uuid[]) then eventstore_partial_append($1)
                       else false end as "partial!",
                  w.n as "written!", w.positions, w.tx_id
             from guard g, written w"#,
        stream,
        expected_revision,
        ids,
        types as &[&str],
        data as &[&str],
        metadata,
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("events_event_id_unique") => {
            StoreError::EventIdConflict { event_id: None }
        }
        _ => StoreError::Database(e),
    })?;
    if !row.ok {
        return Ok(None);
    }
    if row.written > 0 {
        return Ok(Some(Outcome {
            outcome: "ok".into(),
            stream_revision: expected_revision.unwrap_or(-1) + row.written,
            transaction_id: row.tx_id,
            positions: row.positions,
        }));
    }
    // Nothing written: a retry of an earlier append, an id another stream holds, or a lost race.
    let earlier = sqlx::query!(
        r#"select outcome as "outcome!", stream_revision as "stream_revision!", transaction_id, positions
             from eventstore_earlier_append($1, $2, $3, $4::text[]::jsonb[],
                  (select coalesce(max(e.revision), -1) from events e where e.stream_id = $1))"#,
        stream,
        ids,
        types as &[&str],
        data as &[&str],
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(Outcome {
        outcome: earlier.outcome,
        stream_revision: earlier.stream_revision,
        transaction_id: earlier.transaction_id,
        positions: earlier.positions,
    }))
}

/// Counts an append by its outcome, and the events it wrote by the stream's category (the part of
/// the name before the first `-`). An append inside a caller's transaction is counted when the
/// store has done its part, whether or not that transaction then commits.
fn record_append(stream: &str, outcome: &str, events: usize) {
    let outcome = match outcome {
        "ok" => "ok",
        "duplicate" => "duplicate",
        "wrong_expected_version" => "wrong_expected_version",
        "stream_deleted" => "stream_deleted",
        "not_first_write" => "not_first_write",
        "event_id_conflict" => "event_id_conflict",
        _ => "other",
    };
    metrics::counter!("caseledger_eventstore_appends_total", "outcome" => outcome).increment(1);
    if outcome == "ok" {
        let category = stream
            .split_once('-')
            .map_or(stream, |(category, _)| category)
            .to_string();
        metrics::counter!("caseledger_eventstore_events_appended_total", "category" => category)
            .increment(events as u64);
    }
}

/// Names the first of `events` whose id is already taken by different content.
async fn first_conflicting_id(conn: &mut PgConnection, events: &[NewEvent]) -> StoreError {
    let ids: Vec<_> = events.iter().map(|e| e.event_id).collect();
    let taken = sqlx::query_scalar!("select event_id from events where event_id = any($1) limit 1", &ids)
        .fetch_optional(conn)
        .await;
    match taken {
        Ok(Some(event_id)) => StoreError::EventIdConflict {
            event_id: Some(event_id),
        },
        Ok(None) => StoreError::Malformed("an event id conflict that no longer exists".into()),
        Err(e) => StoreError::Database(e),
    }
}
