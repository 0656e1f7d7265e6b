//! Runs every projection as a named subscriber (one process at a time holds each; another takes
//! over if it dies), restarting one that fails, and lets a writer wait until the views have
//! caught up with what it wrote.

use std::time::Duration;

use caseledger_eventstore::{
    EventHandler, EventStore, Filter, Position, StoreError, SubscriberOptions, load_checkpoint, run_subscriber,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::registry::{NAMES, Projection};

/// The running projections of this process.
#[derive(Debug)]
pub struct Projections {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Projections {
    /// Starts a runner for each projection; each waits for its lease if another process has it.
    pub fn start(store: &EventStore) -> Self {
        let (stop, shutdown) = watch::channel(false);
        let tasks = Projection::ALL
            .into_iter()
            .map(|projection| {
                crate::with_handler!(projection, |handler| spawn(
                    store.clone(),
                    projection.name(),
                    handler,
                    shutdown.clone()
                ))
            })
            .collect();
        Self { stop, tasks }
    }

    /// Stops every runner: each commits its batch in hand and releases its lease.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

fn spawn<H: EventHandler + 'static>(
    store: EventStore,
    name: &'static str,
    handler: H,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Every projection reads $all, so every checkpoint follows the head of the log.
        let mut options = SubscriberOptions::new(name, Filter::All);
        options.poll_interval = Duration::from_millis(250);
        loop {
            match run_subscriber(&store, &options, &handler, shutdown.clone()).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::error!(projection = name, %error, "projection failed; restarting");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        }
    })
}

/// Waits (up to `timeout`) until every projection has passed the newest event committed now, so
/// that a caller reads its own writes. `false` if they did not catch up in time.
pub async fn wait_for_projections(store: &EventStore, timeout: Duration) -> Result<bool, StoreError> {
    let mut conn = store.pool().acquire().await?;
    let head = sqlx::query!(
        r#"select tx_id::text as "tx_id!", position from events order by tx_id desc, position desc limit 1"#
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(head) = head else { return Ok(true) };
    let head = Position {
        tx_id: head
            .tx_id
            .parse()
            .map_err(|_| StoreError::Malformed(format!("tx_id {}", head.tx_id)))?,
        position: u64::try_from(head.position).unwrap_or_default(),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut caught_up = true;
        for name in NAMES {
            caught_up &= load_checkpoint(&mut conn, name)
                .await?
                .is_some_and(|checkpoint| checkpoint >= head);
        }
        if caught_up {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
