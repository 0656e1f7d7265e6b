//! Group commit: [`EventStore::append`](crate::EventStore::append)s that arrive while many others
//! are under way wait in a queue, and the batching writer takes them all at once and appends them
//! in one statement (`eventstore_append_many`), so they share one transaction and one commit.
//!
//! While fewer than [`GroupCommitSettings::direct`] appends are under way (counting the queued
//! ones), an append goes straight to the database in a transaction of its own, as it would without
//! group commit: nothing waits for a batch to fill, and a few writers keep their own round trips in
//! parallel. Beyond that, every append queues for the batching writer, so that many writers share
//! one statement and one commit instead of each paying its own. Each append keeps
//! its own outcome: one whose expected revision fails is refused while the others commit. If the
//! batch's transaction fails as a whole (a partial event id conflict raises, or the connection is
//! lost), each of its appends is tried again alone; their event ids make that safe, since an append
//! that had in fact committed is answered as a duplicate with its original result.
//!
//! An append whose caller has stopped waiting before a writer took it is not written.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{PgConnection, PgPool};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::append::{Answer, Encoded, append_error, append_with, check, encode, settle};
use crate::notifier::Notifier;
use crate::{AppendResult, StoreError, StreamAppend};

/// How appends are grouped; the defaults are what the benchmarks found best on two cores
/// (BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitSettings {
    /// Appends that go straight to the database, each alone, before appends queue for a batch.
    pub direct: usize,
    /// Batches written at once (at least one). One by default: while it is written, the next
    /// fills, and the batches are as large as they can be.
    pub writers: usize,
}

impl Default for GroupCommitSettings {
    fn default() -> Self {
        Self { direct: 4, writers: 1 }
    }
}

/// At most this many appends in one transaction.
const MAX_APPENDS: usize = 64;
/// At most this many events in one transaction (a batch stops before the append that passes it,
/// unless it is the first).
const MAX_EVENTS: usize = 1_000;
/// Appends waiting for a writer before callers wait to queue.
const QUEUE: usize = 4_096;

type Reply = oneshot::Sender<Result<AppendResult, StoreError>>;

struct Request {
    append: StreamAppend,
    reply: Reply,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    pool: PgPool,
    notifier: Notifier,
    direct: usize,
    /// Appends under way through this store: direct, queued or being written.
    under_way: Arc<AtomicUsize>,
    requests: mpsc::Sender<Request>,
}

/// One append under way, counted until it is dropped (its caller may stop waiting at any point).
struct UnderWay<'a>(&'a AtomicUsize);

impl Drop for UnderWay<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request").field("stream", &self.append.stream).finish()
    }
}

impl GroupCommit {
    /// Starts the writers; they end when the last handle is dropped.
    pub(crate) fn spawn(pool: PgPool, notifier: Notifier, settings: GroupCommitSettings) -> Self {
        let (requests, queue) = mpsc::channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..settings.writers.max(1) {
            tokio::spawn(writer(pool.clone(), notifier.clone(), Arc::clone(&queue)));
        }
        Self {
            pool,
            notifier,
            direct: settings.direct,
            under_way: Arc::default(),
            requests,
        }
    }

    /// Appends at once when few appends are under way, else through the next free batching
    /// writer, and waits for the outcome.
    pub(crate) async fn append(&self, append: StreamAppend) -> Result<AppendResult, StoreError> {
        // Checked here, so that a bad append never reaches a batch.
        check(&append.stream, &append.events)?;
        let before = self.under_way.fetch_add(1, Ordering::Relaxed);
        let _under_way = UnderWay(&self.under_way);
        if before < self.direct {
            let result = alone(&self.pool, &append).await;
            if matches!(&result, Ok(result) if !result.duplicate) {
                self.notifier.poke();
            }
            return result;
        }
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { append, reply })
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        answer
            .await
            .unwrap_or(Err(StoreError::Database(sqlx::Error::PoolClosed)))
    }
}

async fn writer(pool: PgPool, notifier: Notifier, queue: Arc<Mutex<mpsc::Receiver<Request>>>) {
    let mut next: Option<Request> = None;
    loop {
        let batch = {
            let mut queue = queue.lock().await;
            let first = match next.take() {
                Some(first) => first,
                None => match queue.recv().await {
                    Some(first) => first,
                    None => return,
                },
            };
            let mut events = first.append.events.len();
            let mut batch = vec![first];
            while batch.len() < MAX_APPENDS {
                let Ok(request) = queue.try_recv() else { break };
                events += request.append.events.len();
                if events > MAX_EVENTS {
                    next = Some(request);
                    break;
                }
                batch.push(request);
            }
            batch
        };
        // Callers that stopped waiting before now: their appends are not written.
        let batch: Vec<Request> = batch.into_iter().filter(|r| !r.reply.is_closed()).collect();
        if batch.is_empty() {
            continue;
        }
        metrics::histogram!("caseledger_eventstore_group_commit_appends").record(batch.len() as f64);
        let results = commit(&pool, &batch).await;
        if results.iter().any(|r| matches!(r, Ok(result) if !result.duplicate)) {
            notifier.poke();
        }
        for (request, result) in batch.into_iter().zip(results) {
            // The caller may have stopped waiting meanwhile; its append stands.
            let _ = request.reply.send(result);
        }
    }
}

/// Appends the batch: many in one transaction, or each alone (one alone, or if that failed).
async fn commit(pool: &PgPool, batch: &[Request]) -> Vec<Result<AppendResult, StoreError>> {
    if batch.len() > 1 {
        let together = match pool.acquire().await {
            Ok(mut conn) => together(&mut conn, batch).await,
            Err(e) => Err(StoreError::Database(e)),
        };
        match together {
            Ok(results) => return results,
            Err(error) => tracing::debug!(%error, appends = batch.len(), "a group commit failed; appending each alone"),
        }
    }
    let mut results = Vec::with_capacity(batch.len());
    for request in batch {
        results.push(alone(pool, &request.append).await);
    }
    results
}

async fn alone(pool: &PgPool, append: &StreamAppend) -> Result<AppendResult, StoreError> {
    let mut conn = pool.acquire().await?;
    append_with(&mut conn, &append.stream, append.expected, &append.events).await
}

/// One append's answer in a batch, by its place in the batch (from 1).
#[derive(Debug, sqlx::FromRow)]
struct Row {
    ordinal: i32,
    #[sqlx(flatten)]
    answer: Answer,
}

/// Every append of the batch in one transaction; an error fails the batch as a whole.
async fn together(
    conn: &mut PgConnection,
    batch: &[Request],
) -> Result<Vec<Result<AppendResult, StoreError>>, StoreError> {
    let encoded = batch
        .iter()
        .map(|r| encode(&r.append.stream, r.append.expected, &r.append.events))
        .collect::<Result<Vec<Encoded<'_>>, _>>()?;
    let streams: Vec<&str> = batch.iter().map(|r| r.append.stream.as_str()).collect();
    let kinds: Vec<&str> = encoded.iter().map(|e| e.kind).collect();
    let expected: Vec<Option<i64>> = encoded.iter().map(|e| e.expected_revision).collect();
    let counts = encoded
        .iter()
        .map(|e| i32::try_from(e.ids.len()))
        .collect::<Result<Vec<i32>, _>>()
        .map_err(|_| StoreError::Malformed("too many events in one append".into()))?;
    let ids: Vec<uuid::Uuid> = encoded.iter().flat_map(|e| e.ids.iter().copied()).collect();
    let types: Vec<&str> = encoded.iter().flat_map(|e| e.types.iter().copied()).collect();
    let data: Vec<&str> = encoded.iter().flat_map(|e| e.data.iter().copied()).collect();
    let metadata: Vec<&str> = encoded
        .iter()
        .flat_map(|e| e.metadata.iter().map(String::as_str))
        .collect();

    // One statement, so one implicit transaction and one round trip: no BEGIN and COMMIT of
    // our own (they were two more round trips per batch, and cost more than they saved).
    let rows: Vec<Row> = sqlx::query_as(
        "select ordinal, outcome, stream_revision, transaction_id, positions
           from eventstore_append_many($1, $2, $3, $4, $5, $6, $7::text[]::jsonb[], $8::text[]::jsonb[])
          order by ordinal",
    )
    .bind(&streams)
    .bind(&kinds)
    .bind(&expected)
    .bind(&counts)
    .bind(&ids)
    .bind(&types)
    .bind(&data)
    .bind(&metadata)
    .fetch_all(&mut *conn)
    .await
    .map_err(append_error)?;
    if rows.len() != batch.len() || rows.iter().zip(1..).any(|(row, ordinal)| row.ordinal != ordinal) {
        return Err(StoreError::Malformed(format!(
            "a group commit of {} appends answered {} rows",
            batch.len(),
            rows.len()
        )));
    }

    let mut results = Vec::with_capacity(batch.len());
    for (request, row) in batch.iter().zip(rows) {
        let append = &request.append;
        results.push(settle(conn, &append.stream, append.expected, &append.events, row.answer).await);
    }
    Ok(results)
}
