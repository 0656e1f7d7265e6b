//! Where each named subscriber has got to, for a writer that wants to read its own writes: it
//! waits until the subscribers have passed its own position, woken when one commits past it.
//! A subscriber running in this process wakes its waiters at once; waiters in other processes
//! learn of it through `pg_notify` on [`PROGRESS_CHANNEL`], sent after the commit from a
//! connection of its own and merged to at most one notification per [`REMOTE_INTERVAL`] (a
//! `NOTIFY` inside the subscriber's transaction would serialise every commit on PostgreSQL's
//! notify lock). Nothing polls: a waiter looks at the database once when it starts, then only
//! when woken (and, in case a notification was lost, once a second).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{OnceCell, mpsc, watch};

use crate::checkpoint::load_checkpoint;
use crate::{Position, StoreError};

/// The channel subscribers' progress is announced on.
pub const PROGRESS_CHANNEL: &str = "caseledger_progress";
/// Waiters in other processes learn of progress within this.
const REMOTE_INTERVAL: Duration = Duration::from_millis(5);
/// A waiter looks at the database again this often, in case a notification was lost.
const RECHECK: Duration = Duration::from_secs(1);

/// The progress of every subscriber, as this process knows it.
#[derive(Debug, Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    watches: Mutex<HashMap<String, watch::Sender<Position>>>,
    /// Advances to announce to other processes.
    remote: mpsc::Sender<(String, Position)>,
    /// The listener for other processes' announcements, started by the first waiter.
    listening: OnceCell<()>,
    /// Bumped whenever a subscriber here moves on: one of its transactions just ended, which
    /// may be what held back a reader of `$all`.
    moved: watch::Sender<u64>,
}

impl Progress {
    /// Starts the announcing task (inside a Tokio runtime).
    pub(crate) fn spawn(pool: PgPool) -> Self {
        let (remote, mut advances) = mpsc::channel::<(String, Position)>(1024);
        let announcing = pool.clone();
        let moved = watch::channel(0_u64).0;
        let announced = moved.clone();
        tokio::spawn(async move {
            let mut latest: HashMap<String, Position> = HashMap::new();
            while let Some((name, position)) = advances.recv().await {
                latest.insert(name, position);
                // Everything that arrived meanwhile goes in the same notification.
                while let Ok((name, position)) = advances.try_recv() {
                    latest.insert(name, position);
                }
                let payload = latest
                    .drain()
                    .map(|(name, p)| format!("{name} {} {}", p.tx_id, p.position))
                    .collect::<Vec<_>>()
                    .join("\n");
                // The process is stopping: other processes' waiters look again within a second.
                if announcing.is_closed() {
                    break;
                }
                if let Err(error) = sqlx::query_scalar!("select pg_notify($1, $2)", PROGRESS_CHANNEL, payload)
                    .fetch_one(&announcing)
                    .await
                {
                    if announcing.is_closed() {
                        break;
                    }
                    tracing::warn!(%error, "could not announce subscribers' progress");
                }
                // A notification is a transaction of its own, which held back readers of `$all`.
                announced.send_modify(|moves| *moves = moves.wrapping_add(1));
                tokio::time::sleep(REMOTE_INTERVAL).await;
            }
        });
        Self {
            inner: Arc::new(Inner {
                pool,
                watches: Mutex::default(),
                remote,
                listening: OnceCell::new(),
                moved,
            }),
        }
    }

    fn sender(&self, name: &str) -> watch::Sender<Position> {
        let mut watches = self
            .inner
            .watches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        watches
            .entry(name.to_string())
            .or_insert_with(|| watch::channel(Position::START).0)
            .clone()
    }

    /// Records that `name` is at `position` or beyond.
    fn seen(&self, name: &str, position: Position) {
        self.sender(name).send_if_modified(|known| {
            let newer = position > *known;
            if newer {
                *known = position;
            }
            newer
        });
    }

    /// `name` committed up to `position` in this process: wakes its waiters here, and announces
    /// it to other processes.
    pub(crate) fn advanced(&self, name: &str, position: Position) {
        self.seen(name, position);
        self.inner.moved.send_modify(|moves| *moves = moves.wrapping_add(1));
        let _ = self.inner.remote.try_send((name.to_string(), position));
    }

    /// Changes whenever a subscriber of this process moves on (see [`Self::advanced`]).
    pub(crate) fn moves(&self) -> watch::Receiver<u64> {
        self.inner.moved.subscribe()
    }

    /// Listens for other processes' announcements, once per process.
    async fn listen(&self) {
        let progress = self.clone();
        self.inner
            .listening
            .get_or_init(|| async move {
                tokio::spawn(async move {
                    loop {
                        let listener = async {
                            let mut listener = PgListener::connect_with(&progress.inner.pool).await?;
                            listener.listen(PROGRESS_CHANNEL).await?;
                            Ok::<_, sqlx::Error>(listener)
                        };
                        let mut listener = match listener.await {
                            Ok(listener) => listener,
                            // The store was closed: nobody is left to wake.
                            Err(_) if progress.inner.pool.is_closed() => return,
                            Err(error) => {
                                tracing::warn!(%error, "progress: could not listen; trying again");
                                tokio::time::sleep(RECHECK).await;
                                continue;
                            }
                        };
                        while let Ok(notification) = listener.recv().await {
                            for line in notification.payload().lines() {
                                let mut parts = line.split(' ');
                                if let (Some(name), Some(Ok(tx_id)), Some(Ok(position))) =
                                    (parts.next(), parts.next().map(str::parse), parts.next().map(str::parse))
                                {
                                    progress.seen(name, Position { tx_id, position });
                                }
                            }
                        }
                    }
                });
            })
            .await;
    }

    /// Waits (at most `timeout`) until every subscriber of `names` has passed `position`;
    /// whether they did.
    pub async fn wait_for(&self, names: &[&str], position: Position, timeout: Duration) -> Result<bool, StoreError> {
        self.listen().await;
        let deadline = tokio::time::Instant::now() + timeout;
        for name in names {
            let mut known = self.sender(name).subscribe();
            let mut looked = false;
            loop {
                if *known.borrow_and_update() >= position {
                    break;
                }
                if !looked {
                    // Once, in case it passed before anyone here was told.
                    looked = true;
                    let mut conn = self.inner.pool.acquire().await?;
                    if let Some(checkpoint) = load_checkpoint(&mut conn, name).await? {
                        self.seen(name, checkpoint);
                    }
                    continue;
                }
                tokio::select! {
                    changed = known.changed() => {
                        if changed.is_err() {
                            return Ok(false);
                        }
                    }
                    _ = tokio::time::sleep(RECHECK) => looked = false,
                    _ = tokio::time::sleep_until(deadline) => return Ok(false),
                }
            }
        }
        Ok(true)
    }
}
