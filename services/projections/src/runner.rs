//! Runs every projection as a named subscriber (one process at a time holds each; another takes
//! over if it dies), restarting one that fails, and lets a writer wait until the views have
//! caught up with what it wrote (woken by the store's progress, never by polling).

use std::time::Duration;

use caseledger_eventstore::{
    EventHandler, EventStore, Filter, Position, StoreError, SubscriberOptions, run_subscriber,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::registry::{NAMES, Projection, readers_of};

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
        let tasks = Projection::all()
            .into_iter()
            .map(|projection| {
                spawn(
                    store.clone(),
                    projection.name(),
                    projection.handler().clone(),
                    shutdown.clone(),
                )
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
        // A read model is worked out again from the log: its commits need not wait for the disk.
        options.durable_commits = false;
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

/// Waits (up to `timeout`) until every projection has passed `position` (a writer's own last
/// event), woken as they commit: a writer reads its own writes, and only waits for them. `false`
/// if they did not catch up in time.
pub async fn wait_for_position(store: &EventStore, position: Position, timeout: Duration) -> Result<bool, StoreError> {
    store.progress().wait_for(NAMES, position, timeout).await
}

/// Waits (up to `timeout`) until every projection that reads events of `types` has passed
/// `position`: a writer that knows what it wrote waits only for the views it can change (all of
/// them when `types` is empty). `false` if they did not catch up in time.
pub async fn wait_for_readers(
    store: &EventStore,
    position: Position,
    types: &[&str],
    timeout: Duration,
) -> Result<bool, StoreError> {
    store.progress().wait_for(&readers_of(types), position, timeout).await
}

/// Waits (up to `timeout`) until every projection has passed the newest event committed now.
pub async fn wait_for_projections(store: &EventStore, timeout: Duration) -> Result<bool, StoreError> {
    match store.head().await? {
        Some(head) => wait_for_position(store, head, timeout).await,
        None => Ok(true),
    }
}
