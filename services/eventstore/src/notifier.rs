//! Wake-ups for live subscribers, sent after the append has committed and from a connection of
//! their own. A `NOTIFY` inside the appending transaction would take PostgreSQL's database-wide
//! notify lock across the commit and so serialise every writer's commit.

use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::WAKE_CHANNEL;

#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    pending: mpsc::Sender<()>,
}

impl Notifier {
    /// Starts the sending task; it ends when the last handle is dropped.
    pub(crate) fn spawn(pool: PgPool) -> Self {
        // Capacity one: pokes that arrive while one is pending merge into it.
        let (pending, mut poked) = mpsc::channel::<()>(1);
        tokio::spawn(async move {
            while poked.recv().await.is_some() {
                if let Err(error) = sqlx::query_scalar!("select pg_notify($1, '')", WAKE_CHANNEL)
                    .fetch_one(&pool)
                    .await
                {
                    // Subscribers also poll, so a lost wake-up only delays delivery.
                    tracing::warn!(%error, "could not notify subscribers");
                }
            }
        });
        Self { pending }
    }

    pub(crate) fn poke(&self) {
        let _ = self.pending.try_send(());
    }
}
