//! Where queries read: the primary, or a PostgreSQL streaming replica of it
//! (`CASELEDGER_READ_DATABASE_URL`). Commands, projections and subscriptions always use the
//! primary; the read models queries and pages show may come from the replica.
//!
//! Reading one's own writes holds with a replica: after a write, [`Reads::after_write`] makes the
//! primary flush what it has committed (the views' commits are asynchronous) and waits, for a
//! bounded while, until the replica has replayed past it. Until the replica has, this process
//! reads from the primary, so a reader never sees the replica behind a write this process waited
//! for, even when the wait timed out.
//!
//! One watcher per process asks the replica how far it has replayed: every millisecond while a
//! write waits for it, and every second otherwise (a replica that does not answer is not read
//! from until it does). Waiters are woken by the watcher, not polling themselves: PostgreSQL 15
//! has no way to be told when a standby passes an LSN, and a standby cannot `LISTEN`.
//!
//! The wait covers the replica the watcher's connection reaches: point the read URL at one
//! replica (one per instance, say), not a service that balances over several.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

/// How often the watcher asks while a write waits for the replica.
const BEHIND_POLL: Duration = Duration::from_millis(1);
/// How often the watcher asks otherwise: the longest a replica that stopped answering is still
/// read from.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// The pools queries read from; cheap to clone.
#[derive(Debug, Clone)]
pub struct Reads {
    primary: PgPool,
    replica: Option<Arc<Replica>>,
}

#[derive(Debug)]
struct Replica {
    pool: PgPool,
    /// The WAL position every read of this process must see: raised by writes reading back.
    wanted: watch::Sender<u64>,
    /// How far the replica has replayed, as last seen; 0 while it does not answer.
    replayed: watch::Receiver<u64>,
}

impl Reads {
    /// Reads from the primary only.
    pub fn primary(pool: PgPool) -> Self {
        Self {
            primary: pool,
            replica: None,
        }
    }

    /// Reads from `replica` while it is current, else from `primary`. Create inside a Tokio
    /// runtime: it starts the watcher, which ends when the last clone is dropped.
    pub fn with_replica(primary: PgPool, replica: PgPool) -> Self {
        let (wanted, wanted_rx) = watch::channel(0);
        let (replayed_tx, replayed) = watch::channel(0);
        tokio::spawn(watch_replica(replica.clone(), wanted_rx, replayed_tx));
        Self {
            primary,
            replica: Some(Arc::new(Replica {
                pool: replica,
                wanted,
                replayed,
            })),
        }
    }

    /// The primary, always: where a mutation reads back what it wrote, and what it writes
    /// beside the log (the directory of people, notification settings).
    pub fn primary_pool(&self) -> &PgPool {
        &self.primary
    }

    /// Whether a replica is configured.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// The pool a query should read from now: the replica when it answers and has replayed every
    /// write this process waited for, else the primary.
    pub fn pool(&self) -> &PgPool {
        match &self.replica {
            Some(replica) if replica.current() => &replica.pool,
            _ => &self.primary,
        }
    }

    /// After a write has committed and the views have shown it: waits (up to `within`) until the
    /// replica has replayed everything the primary has committed now. Whether it did; until it
    /// does, [`Reads::pool`] is the primary. A replica that was not current already is not waited
    /// for. Without a replica, true at once.
    pub async fn after_write(&self, within: Duration) -> Result<bool, sqlx::Error> {
        let Some(replica) = &self.replica else {
            return Ok(true);
        };
        // Taking a transaction id makes this a commit that waits for the disk, and so flushes
        // (and sends to the replica) everything written before it, the views' asynchronous
        // commits included; the position is read before that commit.
        let lsn: i64 = sqlx::query_scalar(
            "select (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint from (select pg_current_xact_id()) x",
        )
        .fetch_one(&self.primary)
        .await?;
        let lsn = u64::try_from(lsn).unwrap_or_default();
        // A replica already behind (an earlier wait timed out) or not answering is not waited for
        // again: reads come from the primary until it has caught up, and writes do not each pay
        // the whole wait while it reconnects or replays.
        let was_current = replica.current();
        replica.wanted.send_if_modified(|wanted| {
            let raise = lsn > *wanted;
            if raise {
                *wanted = lsn;
            }
            raise
        });
        if !was_current {
            return Ok(false);
        }
        let mut replayed = replica.replayed.clone();
        let caught_up = matches!(
            tokio::time::timeout(within, replayed.wait_for(|replayed| *replayed >= lsn)).await,
            Ok(Ok(_))
        );
        if !caught_up {
            tracing::warn!(within = ?within, "the replica did not catch up in time; reading from the primary");
            metrics::counter!("caseledger_replica_waits_timed_out_total").increment(1);
        }
        Ok(caught_up)
    }
}

impl Replica {
    fn current(&self) -> bool {
        let replayed = *self.replayed.borrow();
        replayed > 0 && replayed >= *self.wanted.borrow()
    }
}

/// Asks the replica how far it has replayed, often while a write waits for it; ends when every
/// [`Reads`] is gone.
async fn watch_replica(pool: PgPool, mut wanted: watch::Receiver<u64>, replayed: watch::Sender<u64>) {
    let mut failing = false;
    loop {
        // A server that is not a standby (a primary given as the read URL) is always current.
        let seen: Result<Option<i64>, sqlx::Error> =
            sqlx::query_scalar("select (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
                .fetch_one(&pool)
                .await;
        let seen = match seen {
            Ok(Some(lsn)) => u64::try_from(lsn).unwrap_or_default(),
            Ok(None) => u64::MAX,
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, "the read replica does not answer; reading from the primary");
                }
                0
            }
        };
        failing = seen == 0;
        replayed.send_if_modified(|last| {
            let changed = *last != seen;
            *last = seen;
            changed
        });
        let behind = seen < *wanted.borrow_and_update();
        let pause = if behind && !failing { BEHIND_POLL } else { IDLE_POLL };
        tokio::select! {
            changed = wanted.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(pause) => {}
        }
    }
}
