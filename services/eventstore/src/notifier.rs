//! Wake-ups for live subscribers after an append has committed. Subscribers in this process are
//! woken at once; other processes through `pg_notify`, sent from a connection of its own and at
//! most once per [`REMOTE_INTERVAL`].
//!
//! Why not a `NOTIFY` inside the appending transaction: it takes PostgreSQL's database-wide notify
//! lock across the commit and so serialises every writer's commit. Why throttled: a `NOTIFY` is a
//! transaction with an id and a flushed commit of its own, which would double the commits.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, watch};

use crate::WAKE_CHANNEL;

/// Subscribers in other processes learn of new events within this (or their poll interval).
const REMOTE_INTERVAL: Duration = Duration::from_millis(10);

#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    local: watch::Sender<u64>,
    remote: mpsc::Sender<()>,
}

impl Notifier {
    /// Starts the sending task; it ends when the last handle is dropped.
    pub(crate) fn spawn(pool: PgPool) -> Self {
        // Capacity one: pokes that arrive while one is pending merge into it.
        let (remote, mut poked) = mpsc::channel::<()>(1);
        tokio::spawn(async move {
            while poked.recv().await.is_some() {
                if let Err(error) = sqlx::query_scalar!("select pg_notify($1, '')", WAKE_CHANNEL)
                    .fetch_one(&pool)
                    .await
                {
                    // Subscribers also poll, so a lost wake-up only delays delivery.
                    tracing::warn!(%error, "could not notify subscribers");
                }
                tokio::time::sleep(REMOTE_INTERVAL).await;
            }
        });
        Self {
            local: watch::channel(0).0,
            remote,
        }
    }

    pub(crate) fn poke(&self) {
        self.local
            .send_modify(|generation| *generation = generation.wrapping_add(1));
        let _ = self.remote.try_send(());
    }

    /// A receiver that changes whenever this process appends.
    pub(crate) fn local_wake_ups(&self) -> watch::Receiver<u64> {
        self.local.subscribe()
    }
}
