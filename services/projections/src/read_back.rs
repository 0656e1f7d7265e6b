//! Reading one's own writes, beside the command path: after a command, wait (a while, woken as
//! the views commit) for every view to show what it wrote, then read the case back as the views
//! show it; when they did not catch up in time, the case as the command itself left it. Every
//! caller of the command path (GraphQL's mutations) answers through here, once.

use std::time::{Duration, Instant};

use caseledger_cases::case::Case;
use caseledger_eventstore::{EventStore, Position, StoreError, stage};

use crate::case_view::{Activity, CaseRow};
use crate::reads::Reads;
use crate::runner::{wait_for_position, wait_for_projections, wait_for_readers};

/// Waits (up to `within`) for the views to show a write: `written` is where its last event went,
/// `types` the types of its events (only the views that read them are waited for; all of them
/// when empty); a repeat of an earlier command (`duplicate`, nothing written now) waits for the
/// whole log in every view, since where the first write went is not known here. Then, with a
/// read replica, waits for it to replay the views' rows (see [`Reads::after_write`]), in what is
/// left of `within`. Whether the views caught up (the replica's wait falls back to the primary on
/// its own).
pub async fn settle(
    store: &EventStore,
    reads: &Reads,
    written: Option<Position>,
    types: &[&str],
    duplicate: bool,
    within: Duration,
) -> Result<bool, StoreError> {
    let started = Instant::now();
    let caught_up = match (written, duplicate) {
        (Some(position), false) => wait_for_readers(store, position, types, within).await?,
        (Some(position), true) => wait_for_position(store, position, within).await?,
        (None, true) => wait_for_projections(store, within).await?,
        (None, false) => true,
    };
    stage::record("views", started);
    if !caught_up {
        tracing::warn!(within = ?within, "views did not catch up in time");
    }
    if caught_up && (written.is_some() || duplicate) {
        let replayed = Instant::now();
        reads.after_write(within.saturating_sub(started.elapsed())).await?;
        stage::record("replica", replayed);
    }
    Ok(caught_up)
}

/// What a command did to its case, as the views show it once they caught up (within `within`),
/// else as the command left it. `None`: the case is not there (nothing opened it).
pub async fn case_after(
    store: &EventStore,
    reads: &Reads,
    written: &Written<'_>,
    within: Duration,
) -> Result<Option<CaseRow>, ReadBackError> {
    let caught_up = settle(store, reads, written.position, written.types, written.duplicate, within).await?;
    let started = Instant::now();
    let row = match caught_up {
        true => crate::case_view::by_id(reads.pool(), written.case_id).await?,
        false => None,
    };
    stage::record("read_back", started);
    if let Some(row) = row {
        return Ok(Some(row));
    }
    Ok(written.case.opened_at.and_then(|opened_at| {
        CaseRow::of(
            written.case_id,
            written.case,
            None,
            Activity::starting(opened_at),
            opened_at.date_naive(),
        )
    }))
}

/// What a command wrote to a case (its outcome, as the command path reports it).
#[derive(Debug, Clone, Copy)]
pub struct Written<'a> {
    pub case_id: uuid::Uuid,
    /// The case as the command left it.
    pub case: &'a Case,
    /// Where its last event went (`None`: nothing written now).
    pub position: Option<Position>,
    /// The types of the events it wrote (empty: not known, every view is waited for).
    pub types: &'a [&'static str],
    /// A repeat of an earlier command.
    pub duplicate: bool,
}

/// Why a case could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
