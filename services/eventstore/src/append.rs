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
    /// Appends `events` to `stream` if `expected` holds, then wakes live subscribers. Appends from
    /// many callers at once share a transaction and its commit (see [`crate::group`]), each with
    /// its own outcome.
    #[tracing::instrument(name = "eventstore.append", skip(self, events), fields(count = events.len()))]
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedRevision,
        events: &[NewEvent],
    ) -> Result<AppendResult, StoreError> {
        self.group
            .append(StreamAppend {
                stream: stream.to_string(),
                expected,
                events: events.to_vec(),
            })
            .await
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

/// An append as the append functions take it: the expected revision split into its kind and value,
/// and the events as parallel arrays.
pub(crate) struct Encoded<'a> {
    pub kind: &'static str,
    pub expected_revision: Option<i64>,
    pub ids: Vec<uuid::Uuid>,
    pub types: Vec<&'a str>,
    pub data: Vec<&'a str>,
    pub metadata: Vec<String>,
}

/// Refuses what no append may be: a stream named empty or `$…`, or no events.
pub(crate) fn check(stream: &str, events: &[NewEvent]) -> Result<(), StoreError> {
    if stream.is_empty() || stream.starts_with('$') {
        return Err(StoreError::InvalidStreamName(stream.to_string()));
    }
    if events.is_empty() {
        return Err(StoreError::EmptyAppend);
    }
    Ok(())
}

/// Checks the stream's name and the events, and encodes them for the append functions.
pub(crate) fn encode<'a>(
    stream: &str,
    expected: ExpectedRevision,
    events: &'a [NewEvent],
) -> Result<Encoded<'a>, StoreError> {
    check(stream, events)?;
    let (kind, expected_revision) = match expected {
        ExpectedRevision::Any => ("any", None),
        ExpectedRevision::NoStream => ("no_stream", None),
        ExpectedRevision::StreamExists => ("stream_exists", None),
        ExpectedRevision::Exact(revision) => ("exact", Some(i64::try_from(revision).unwrap_or(i64::MAX))),
    };
    let metadata = events
        .iter()
        .map(|e| serde_json::to_string(&e.metadata))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Malformed(format!("metadata: {e}")))?;
    Ok(Encoded {
        kind,
        expected_revision,
        ids: events.iter().map(|e| e.event_id).collect(),
        types: events.iter().map(|e| e.event_type.as_str()).collect(),
        data: events.iter().map(|e| e.data.get()).collect(),
        metadata,
    })
}

/// What an append function answered for one append.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Answer {
    pub outcome: String,
    pub stream_revision: i64,
    pub transaction_id: Option<String>,
    pub positions: Option<Vec<i64>>,
}

/// Maps a database error of an append: another stream took one of these ids in a concurrent
/// transaction, or the database failed.
pub(crate) fn append_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("events_event_id_unique") => {
            StoreError::EventIdConflict { event_id: None }
        }
        _ => StoreError::Database(e),
    }
}

async fn append_one(
    conn: &mut PgConnection,
    stream: &str,
    expected: ExpectedRevision,
    events: &[NewEvent],
    already_locked: bool,
) -> Result<AppendResult, StoreError> {
    let encoded = encode(stream, expected, events)?;
    let row = sqlx::query!(
        r#"select outcome as "outcome!", stream_revision as "stream_revision!", transaction_id, positions
             from eventstore_append($1, $2, $3, $4, $5, $6::text[]::jsonb[], $7::text[]::jsonb[], $8)"#,
        stream,
        encoded.kind,
        encoded.expected_revision,
        &encoded.ids,
        &encoded.types as &[&str],
        &encoded.data as &[&str],
        &encoded.metadata,
        already_locked,
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(append_error)?;
    let answer = Answer {
        outcome: row.outcome,
        stream_revision: row.stream_revision,
        transaction_id: row.transaction_id,
        positions: row.positions,
    };
    settle(conn, stream, expected, events, answer).await
}

/// The result of one append from what the append function answered; an id conflict is named by
/// a read on `conn`.
pub(crate) async fn settle(
    conn: &mut PgConnection,
    stream: &str,
    expected: ExpectedRevision,
    events: &[NewEvent],
    answer: Answer,
) -> Result<AppendResult, StoreError> {
    let actual = u64::try_from(answer.stream_revision).ok();
    record_append(stream, &answer.outcome, events.len());
    match answer.outcome.as_str() {
        "ok" | "duplicate" => {
            let tx_id = answer
                .transaction_id
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| StoreError::Malformed("append returned no transaction id".into()))?;
            let positions = answer
                .positions
                .unwrap_or_default()
                .into_iter()
                .map(|p| Position {
                    tx_id,
                    position: u64::try_from(p).unwrap_or_default(),
                })
                .collect();
            let revision = actual.ok_or_else(|| StoreError::Malformed("append returned no revision".into()))?;
            tracing::debug!(revision, duplicate = answer.outcome == "duplicate", "appended");
            Ok(AppendResult {
                revision,
                positions,
                duplicate: answer.outcome == "duplicate",
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
