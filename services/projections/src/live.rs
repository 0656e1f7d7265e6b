//! The live feed: one subscription to the log per process, shared by every open page and every
//! GraphQL subscription, so that listeners cost no database connections of their own. Each
//! listener gets a bounded queue: one that falls behind is told so and dropped from the feed, not
//! buffered without bound.

use std::sync::Arc;
use std::time::Duration;

use caseledger_cases::Role;
use caseledger_eventstore::{EventStore, Filter, RecordedEvent};
use futures_util::Stream;
use tokio::sync::{broadcast, watch};

/// Batches of the feed kept for a slow listener before it is left behind.
const QUEUE: usize = 256;

/// What a listener receives.
#[derive(Debug, Clone)]
pub enum LiveItem {
    /// New case events, in the log's order.
    Events(Arc<Vec<RecordedEvent>>),
    /// The listener fell behind and missed some; the feed ends for it after this.
    Lagged,
}

/// New case events as they are committed, for every listener of this process.
#[derive(Debug, Clone)]
pub struct LiveFeed {
    sender: broadcast::Sender<Arc<Vec<RecordedEvent>>>,
    /// `None`: the feed runs as long as the process.
    shutdown: Option<watch::Receiver<bool>>,
}

/// Resolves when `shutdown` turns true (or its sender is gone); never without one.
async fn stopped(shutdown: Option<watch::Receiver<bool>>) {
    match shutdown {
        Some(mut shutdown) => {
            let _ = shutdown.wait_for(|stop| *stop).await;
        }
        None => std::future::pending().await,
    }
}

impl LiveFeed {
    /// Starts the process's one subscription (inside a Tokio runtime); it follows the log from
    /// now until `shutdown` turns true, starting again after a failure.
    pub fn start(store: EventStore, shutdown: Option<watch::Receiver<bool>>) -> Self {
        let (sender, _) = broadcast::channel(QUEUE);
        let feed = sender.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            loop {
                let subscription = match store.live_start().await {
                    Ok(start) => store.subscribe(Filter::Category("case".into()), start).await,
                    Err(error) => Err(error),
                };
                let mut subscription = match subscription {
                    Ok(subscription) => subscription,
                    Err(error) => {
                        tracing::warn!(%error, "live feed: could not subscribe; trying again");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                            _ = stopped(stop.clone()) => return,
                        }
                    }
                };
                loop {
                    let batch = tokio::select! {
                        batch = subscription.next_batch() => batch,
                        _ = stopped(stop.clone()) => return,
                    };
                    match batch {
                        // No listener is no error.
                        Ok(mut batch) if !batch.is_empty() => {
                            // Subscribers show what they receive: personal fields opened (or erased).
                            if let Err(error) = store.open_sealed(&mut batch).await {
                                tracing::warn!(%error, "live feed: could not open sealed fields; starting again");
                                break;
                            }
                            drop(feed.send(Arc::new(batch)));
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, "live feed: the subscription ended; starting again");
                            break;
                        }
                    }
                }
            }
        });
        Self { sender, shutdown }
    }

    /// How many listeners are following the feed now.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    /// The feed from now on, for one listener. It ends when the service stops, and right after a
    /// [`LiveItem::Lagged`] when the listener falls more than the queue behind.
    pub fn listen(&self) -> impl Stream<Item = LiveItem> + Send + 'static {
        let receiver = self.sender.subscribe();
        let shutdown = self.shutdown.clone();
        let items = futures_util::stream::unfold(Some(receiver), |receiver| async move {
            let mut receiver = receiver?;
            match receiver.recv().await {
                Ok(batch) => Some((LiveItem::Events(batch), Some(receiver))),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "live feed: a listener fell behind and was dropped");
                    Some((LiveItem::Lagged, None))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        });
        futures_util::StreamExt::take_until(items, stopped(shutdown))
    }

    /// Which cases `viewer` may see changing, from now on: a case's id for each batch of its
    /// events that the viewer's lens lets through (none for events it hides), and
    /// [`CaseChange::Lagged`] before the end when the listener fell behind.
    pub fn changes_for(&self, viewer: Role) -> impl Stream<Item = CaseChange> + Send + 'static {
        use futures_util::StreamExt;
        self.listen().flat_map(move |item| {
            let changes = match item {
                LiveItem::Events(batch) => {
                    let mut ids: Vec<uuid::Uuid> = batch
                        .iter()
                        .filter_map(|event| crate::lens::lens(viewer, event))
                        .map(|event| event.case_id)
                        .collect();
                    ids.dedup();
                    ids.into_iter().map(CaseChange::Case).collect()
                }
                LiveItem::Lagged => vec![CaseChange::Lagged],
            };
            futures_util::stream::iter(changes)
        })
    }
}

/// A change a viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseChange {
    /// Something the viewer may see happened on this case.
    Case(uuid::Uuid),
    /// The listener fell behind and missed some changes; the feed ends for it after this.
    Lagged,
}
