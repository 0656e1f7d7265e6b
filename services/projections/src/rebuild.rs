//! Rebuilding a projection from zero while the service keeps answering: replay every event into
//! a fresh copy of the table in a schema of its own (the projection's SQL is unqualified, so a
//! `search_path` points it there), then, in one short transaction that holds the live table's
//! lock, catch up to the head, swap the new table in and move the projection's checkpoint. The
//! live runner's next save finds its checkpoint moved, rolls back, and resumes from the new one.

use caseledger_eventstore::{
    EventHandler, EventStore, HandlerError, Position, RecordedEvent, StoreError, move_checkpoint,
};
use sqlx::{Connection, PgConnection};

use crate::registry::{NAMES, Projection};

const PAGE: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("no projection is called {0:?} (there are: {names})", names = NAMES.join(", "))]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("the projection failed while rebuilding: {0}")]
    Handler(HandlerError),
    #[error("reading the log ahead of the rebuild stopped before its end")]
    ReadAheadStopped,
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rebuilt {
    pub projection: String,
    pub events: u64,
    pub seconds: f64,
}

/// Rebuilds projection `name` (all its tables) from the start of the log.
pub async fn rebuild(store: &EventStore, name: &str) -> Result<Rebuilt, RebuildError> {
    rebuild_in_pages(store, name, PAGE).await
}

/// [`rebuild`], reading the log `page_size` events at a time: for a test to cross many pages of
/// a small log.
pub async fn rebuild_in_pages(store: &EventStore, name: &str, page_size: usize) -> Result<Rebuilt, RebuildError> {
    let projection = Projection::parse(name).ok_or_else(|| RebuildError::Unknown(name.to_string()))?;
    rebuild_with(store, name, projection.tables(), projection.handler(), page_size.max(1)).await
}

async fn rebuild_with<H: EventHandler>(
    store: &EventStore,
    name: &str,
    tables: &[&str],
    handler: &H,
    page_size: usize,
) -> Result<Rebuilt, RebuildError> {
    let started = std::time::Instant::now();
    let schema = format!("rebuild_{name}_{}", std::process::id());
    let mut conn = store.pool().acquire().await?.detach();
    sqlx::query(&format!("drop schema if exists {schema} cascade"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("create schema {schema}"))
        .execute(&mut conn)
        .await?;
    for table in tables {
        sqlx::query(&format!(
            "create table {schema}.{table} (like public.{table} including all)"
        ))
        .execute(&mut conn)
        .await?;
    }

    // Catch up from zero, in pages, without blocking anyone.
    let mut position = Position::START;
    let mut events = 0u64;
    let mut pages = 0u64;
    let mut ahead = ReadAhead::start(store.clone(), page_size);
    loop {
        let page = ahead.next().await?;
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        events += page.len() as u64;
        apply(&mut conn, &schema, handler, &read_by(handler, page)).await?;
        position = last;
        pages += 1;
        // New tables have no statistics, and a planner without them scans where it should probe
        // an index (a filter over every row for each batch): analysed as they grow, after 1, 2,
        // 4, 8… pages, which costs little more than once.
        if pages.is_power_of_two() {
            for table in tables {
                sqlx::query(&format!("analyze {schema}.{table}"))
                    .execute(&mut conn)
                    .await?;
            }
        }
    }

    // The swap: the live tables are locked only for the last few events and the renames.
    let mut tx = conn.begin().await?;
    for table in tables {
        sqlx::query(&format!("lock table public.{table} in access exclusive mode"))
            .execute(&mut *tx)
            .await?;
    }
    loop {
        let page = store.read_all(position, page_size).await?;
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        events += page.len() as u64;
        set_path(&mut tx, &schema).await?;
        handler
            .handle_batch(&mut tx, &read_by(handler, page))
            .await
            .map_err(RebuildError::Handler)?;
        position = last;
    }
    sqlx::query("set local search_path to public").execute(&mut *tx).await?;
    for table in tables {
        sqlx::query(&format!("drop table public.{table}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("alter table {schema}.{table} set schema public"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(&format!("drop schema {schema}")).execute(&mut *tx).await?;
    if position != Position::START {
        move_checkpoint(&mut tx, name, position).await?;
    }
    tx.commit().await?;
    conn.close().await?;
    let rebuilt = Rebuilt {
        projection: name.to_string(),
        events,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(projection = name, events, seconds = rebuilt.seconds, "rebuilt");
    Ok(rebuilt)
}

/// The pages of `$all` from the start, read by a task of their own up to three pages ahead of the
/// page being applied (two waiting, one being read): PostgreSQL reads and the process decodes the
/// next page while the projection's statements for this one run, instead of each waiting on the
/// other. It reads what is committed as it goes; the rebuild's last pages are read under the
/// tables' lock, after it.
struct ReadAhead {
    pages: tokio::sync::mpsc::Receiver<Result<Vec<RecordedEvent>, StoreError>>,
    reader: tokio::task::JoinHandle<()>,
}

impl ReadAhead {
    const PAGES_WAITING: usize = 2;

    fn start(store: EventStore, page_size: usize) -> Self {
        use tracing::Instrument;
        let (sender, pages) = tokio::sync::mpsc::channel(Self::PAGES_WAITING);
        let reader = tokio::spawn(
            async move {
                let mut position = Position::START;
                loop {
                    let page = store.read_all(position, page_size).await;
                    let last = page.as_ref().ok().and_then(|page| page.last()).map(|e| e.position);
                    if sender.send(page).await.is_err() {
                        return;
                    }
                    match last {
                        Some(last) => position = last,
                        None => return,
                    }
                }
            }
            .in_current_span(),
        );
        Self { pages, reader }
    }

    /// The next page; an empty one at the end. After the end, or if the reader stopped before it
    /// (it panicked), an error: the rest is not left to the catch-up under the tables' lock.
    async fn next(&mut self) -> Result<Vec<RecordedEvent>, RebuildError> {
        match self.pages.recv().await {
            Some(page) => Ok(page?),
            None => Err(RebuildError::ReadAheadStopped),
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The events of `page` that `handler` reads (the rest cannot change its tables).
fn read_by<H: EventHandler>(handler: &H, page: Vec<RecordedEvent>) -> Vec<RecordedEvent> {
    page.into_iter()
        .filter(|event| handler.reads(&event.event_type))
        .collect()
}

async fn apply<H: EventHandler>(
    conn: &mut PgConnection,
    schema: &str,
    handler: &H,
    page: &[RecordedEvent],
) -> Result<(), RebuildError> {
    if page.is_empty() {
        return Ok(());
    }
    let mut tx = conn.begin().await?;
    set_path(&mut tx, schema).await?;
    // A rebuild that crashes starts again from zero: its pages need not wait for the disk.
    sqlx::query("set local synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    handler
        .handle_batch(&mut tx, page)
        .await
        .map_err(RebuildError::Handler)?;
    tx.commit().await?;
    Ok(())
}

async fn set_path(conn: &mut PgConnection, schema: &str) -> Result<(), RebuildError> {
    sqlx::query(&format!("set local search_path to {schema}, public"))
        .execute(conn)
        .await?;
    Ok(())
}
