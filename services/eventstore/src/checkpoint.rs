//! Named subscribers with exactly-once effect: the checkpoint is saved in the same transaction as
//! the subscriber's own writes, and one advisory lock per name lets one process run it at a time.

use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::watch;

use crate::handler::{ATTEMPTS, EventHandler, HandlerError, guarded, transient};
use crate::{EventStore, Filter, Position, RecordedEvent, StoreError};

/// The first key of every subscriber's advisory lock, so they cannot collide with other users of
/// `pg_try_advisory_lock(int, int)` ("CL").
const LOCK_NAMESPACE: i32 = 0x434c;

/// Where `subscriber` has got to, if it has saved a checkpoint.
pub async fn load_checkpoint(conn: &mut PgConnection, subscriber: &str) -> Result<Option<Position>, StoreError> {
    let row = sqlx::query!(
        r#"select tx_id::text as "tx_id!", position from subscription_checkpoints where subscriber = $1"#,
        subscriber
    )
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let tx_id = row
            .tx_id
            .parse()
            .map_err(|_| StoreError::Malformed(format!("checkpoint tx_id {}", row.tx_id)))?;
        Ok(Position {
            tx_id,
            position: u64::try_from(row.position).unwrap_or_default(),
        })
    })
    .transpose()
}

/// Moves `subscriber`'s checkpoint from `previous` to `next` inside the caller's transaction.
/// Fails with `CheckpointMoved` when the stored checkpoint is not `previous`: another runner got
/// there first, and the caller's transaction must roll back.
pub async fn save_checkpoint(
    conn: &mut PgConnection,
    subscriber: &str,
    previous: Option<Position>,
    next: Position,
) -> Result<(), StoreError> {
    let saved = match previous {
        None => sqlx::query!(
            "insert into subscription_checkpoints (subscriber, tx_id, position)
             values ($1, $2::text::xid8, $3) on conflict (subscriber) do nothing",
            subscriber,
            next.tx_id_text(),
            next.position_i64(),
        )
        .execute(conn)
        .await?
        .rows_affected(),
        Some(previous) => sqlx::query!(
            "update subscription_checkpoints
                set tx_id = $2::text::xid8, position = $3, updated_at = now()
              where subscriber = $1 and tx_id = $4::text::xid8 and position = $5",
            subscriber,
            next.tx_id_text(),
            next.position_i64(),
            previous.tx_id_text(),
            previous.position_i64(),
        )
        .execute(conn)
        .await?
        .rows_affected(),
    };
    if saved == 1 {
        Ok(())
    } else {
        Err(StoreError::CheckpointMoved {
            subscriber: subscriber.to_string(),
        })
    }
}

/// Sets `subscriber`'s checkpoint to `position` whatever it was (a rebuild that swapped in new
/// tables made up to there): a runner's next save finds it moved, rolls back and resumes from it.
pub async fn move_checkpoint(conn: &mut PgConnection, subscriber: &str, position: Position) -> Result<(), StoreError> {
    sqlx::query!(
        "insert into subscription_checkpoints (subscriber, tx_id, position) values ($1, $2::text::xid8, $3)
         on conflict (subscriber) do update set tx_id = excluded.tx_id, position = excluded.position, updated_at = now()",
        subscriber,
        position.tx_id_text(),
        position.position_i64(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The right to run one named subscriber: a session advisory lock on a connection of its own.
/// When the process dies the connection closes, the lock is released and another can take over.
#[derive(Debug)]
pub struct SubscriberLease {
    conn: PgConnection,
    subscriber: String,
}

impl SubscriberLease {
    /// The lease if nobody else holds it.
    pub async fn try_acquire(pool: &PgPool, subscriber: &str) -> Result<Option<Self>, StoreError> {
        let mut conn = pool.acquire().await?.detach();
        let locked = sqlx::query_scalar!(
            r#"select pg_try_advisory_lock($1, hashtext($2)) as "locked!""#,
            LOCK_NAMESPACE,
            subscriber
        )
        .fetch_one(&mut conn)
        .await?;
        if locked {
            Ok(Some(Self {
                conn,
                subscriber: subscriber.to_string(),
            }))
        } else {
            conn.close().await?;
            Ok(None)
        }
    }

    pub fn subscriber(&self) -> &str {
        &self.subscriber
    }

    /// The connection that holds the lock; the subscriber's transactions run on it, so they end
    /// with the lock.
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    pub async fn release(mut self) -> Result<(), StoreError> {
        sqlx::query_scalar!(
            "select pg_advisory_unlock($1, hashtext($2))",
            LOCK_NAMESPACE,
            self.subscriber
        )
        .fetch_one(&mut self.conn)
        .await?;
        self.conn.close().await?;
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct SubscriberOptions {
    pub name: String,
    pub filter: Filter,
    /// Events handled per transaction, at most.
    pub batch_size: usize,
    /// How often a runner without the lease tries again.
    pub lease_retry: Duration,
    pub poll_interval: Duration,
    /// Whether each batch's commit waits for the disk (`synchronous_commit`). A subscriber whose
    /// state can be worked out again from the log may turn it off: a crash then loses its last
    /// few batches whole (rows and checkpoint together), which it handles again at its next start;
    /// each batch no longer waits for a flush of its own.
    pub durable_commits: bool,
}

impl SubscriberOptions {
    pub fn new(name: impl Into<String>, filter: Filter) -> Self {
        Self {
            name: name.into(),
            filter,
            batch_size: 500,
            lease_retry: Duration::from_secs(1),
            poll_interval: Duration::from_millis(500),
            durable_commits: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("subscriber {subscriber} failed on the batch from event {first_event_id}: {source}")]
    Handler {
        subscriber: String,
        first_event_id: uuid::Uuid,
        source: HandlerError,
    },
}

/// Runs a named subscriber until `shutdown` turns true: waits for its lease, resumes after its
/// checkpoint, and hands each batch to `handler` in one transaction with the new checkpoint.
/// While it holds the lease, the gauge `caseledger_subscriber_leader{subscriber}` is 1.
#[tracing::instrument(name = "eventstore.subscriber", skip_all, fields(subscriber = %options.name))]
pub async fn run_subscriber<H: EventHandler>(
    store: &EventStore,
    options: &SubscriberOptions,
    handler: &H,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), SubscriberError> {
    let mut lease = loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        if let Some(lease) = SubscriberLease::try_acquire(store.pool(), &options.name).await? {
            break lease;
        }
        tokio::select! {
            _ = tokio::time::sleep(options.lease_retry) => {}
            _ = shutdown.changed() => {}
        }
    };
    tracing::info!("subscriber lease acquired");
    let leader = metrics::gauge!("caseledger_subscriber_leader", "subscriber" => options.name.clone());
    leader.set(1.0);
    let result = run_with_lease(store, options, handler, &mut shutdown, &mut lease).await;
    leader.set(0.0);
    match result {
        Ok(()) => {
            lease.release().await?;
            tracing::info!("subscriber stopped and released its lease");
            Ok(())
        }
        // The lease's connection closes when it is dropped, which releases the lock.
        Err(error) => Err(error),
    }
}

/// A subscriber that passed events it does not read saves its checkpoint once idle this long.
const SAVE_PASSED_AFTER: Duration = Duration::from_millis(200);

async fn run_with_lease<H: EventHandler>(
    store: &EventStore,
    options: &SubscriberOptions,
    handler: &H,
    shutdown: &mut watch::Receiver<bool>,
    lease: &mut SubscriberLease,
) -> Result<(), SubscriberError> {
    let mut checkpoint = load_checkpoint(lease.connection(), &options.name).await?;
    if !options.durable_commits {
        // The lease's connection is its own (closed with the lease): every commit on it, the
        // batches' and the checkpoints', need not wait for the disk.
        sqlx::query("set synchronous_commit = off")
            .execute(lease.connection())
            .await
            .map_err(StoreError::from)?;
    }
    let mut subscription = store
        .subscribe(options.filter.clone(), checkpoint.unwrap_or(Position::START))
        .await?
        .with_page_size(options.batch_size)
        .with_poll_interval(options.poll_interval);
    // Passed, not yet saved (and since when): batches with nothing it reads. Nobody who knows
    // what they wrote waits for it there, so its checkpoint follows with the next batch it
    // handles, or at most SAVE_PASSED_AFTER later.
    let mut unsaved: Option<(Position, tokio::time::Instant)> = None;
    loop {
        let batch = tokio::select! {
            batch = subscription.next_batch() => batch?,
            _ = shutdown.changed() => break,
            _ = save_due(unsaved) => {
                if let Some((passed, _)) = unsaved.take() {
                    save_checkpoint(lease.connection(), &options.name, checkpoint, passed).await?;
                    checkpoint = Some(passed);
                }
                continue;
            }
        };
        let Some(last) = batch.last().map(|event| event.position) else {
            continue;
        };
        if !batch.iter().any(|event| handler.reads(&event.event_type)) {
            store.progress().advanced(&options.name, last);
            let since = unsaved.map_or_else(tokio::time::Instant::now, |(_, since)| since);
            unsaved = Some((last, since));
            continue;
        }
        let mut tx = lease.connection().begin().await.map_err(StoreError::from)?;
        match guarded(handler.handle_batch(&mut tx, &batch)).await {
            Ok(()) => {
                save_checkpoint(&mut tx, &options.name, checkpoint, last).await?;
                tx.commit().await.map_err(StoreError::from)?;
            }
            Err(source) if transient(&source) => {
                return Err(SubscriberError::Handler {
                    subscriber: options.name.clone(),
                    first_event_id: batch[0].event_id,
                    source,
                });
            }
            Err(error) => {
                drop(tx);
                tracing::warn!(%error, "a batch failed; handling it an event at a time");
                one_at_a_time(options, handler, lease, checkpoint, &batch).await?;
            }
        }
        store.progress().advanced(&options.name, last);
        checkpoint = Some(last);
        unsaved = None;
    }
    if let Some((passed, _)) = unsaved {
        save_checkpoint(lease.connection(), &options.name, checkpoint, passed).await?;
    }
    Ok(())
}

/// When a passed, unsaved checkpoint is due to be saved (never, when there is none).
async fn save_due(unsaved: Option<(Position, tokio::time::Instant)>) {
    match unsaved {
        Some((_, since)) => tokio::time::sleep_until(since + SAVE_PASSED_AFTER).await,
        None => std::future::pending().await,
    }
}

/// Handles `batch` an event at a time (each with the checkpoint in its own transaction), parking
/// each event that still fails after [`ATTEMPTS`].
async fn one_at_a_time<H: EventHandler>(
    options: &SubscriberOptions,
    handler: &H,
    lease: &mut SubscriberLease,
    mut checkpoint: Option<Position>,
    batch: &[RecordedEvent],
) -> Result<(), SubscriberError> {
    for event in batch {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = lease.connection().begin().await.map_err(StoreError::from)?;
            match guarded(handler.handle(&mut tx, event)).await {
                Ok(()) => {
                    save_checkpoint(&mut tx, &options.name, checkpoint, event.position).await?;
                    tx.commit().await.map_err(StoreError::from)?;
                    break;
                }
                Err(source) if transient(&source) => {
                    return Err(SubscriberError::Handler {
                        subscriber: options.name.clone(),
                        first_event_id: event.event_id,
                        source,
                    });
                }
                Err(error) if attempt < ATTEMPTS => {
                    drop(tx);
                    tracing::warn!(event_id = %event.event_id, attempt, %error, "an event failed; trying again");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt * attempt))).await;
                }
                Err(error) => {
                    drop(tx);
                    let mut tx = lease.connection().begin().await.map_err(StoreError::from)?;
                    crate::parked::park(&mut tx, &options.name, event, &error.to_string(), attempt).await?;
                    save_checkpoint(&mut tx, &options.name, checkpoint, event.position).await?;
                    tx.commit().await.map_err(StoreError::from)?;
                    metrics::counter!("caseledger_subscriber_parked_events_total", "subscriber" => options.name.clone())
                        .increment(1);
                    tracing::error!(
                        event_id = %event.event_id,
                        stream = %event.stream_id,
                        event_type = %event.event_type,
                        %error,
                        "an event failed {attempt} times: parked, and the subscriber goes on"
                    );
                    break;
                }
            }
        }
        checkpoint = Some(event.position);
    }
    Ok(())
}
