//! Catch-up then live subscriptions to `$all` or a category: pages of events from a checkpoint,
//! woken by LISTEN/NOTIFY, with polling as the fallback.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::{EventStore, Position, RecordedEvent, StoreError, WAKE_CHANNEL};

/// Which events a subscription delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    All,
    /// Streams named `<category>-…`.
    Category(String),
}

/// Delivers every committed event after its start position exactly once, in global order.
#[derive(Debug)]
pub struct Subscription {
    store: EventStore,
    filter: Filter,
    position: Position,
    page_size: usize,
    poll_interval: Duration,
    listener: Option<PgListener>,
    local_wake_ups: tokio::sync::watch::Receiver<u64>,
    /// Other subscribers of this process moving on: a transaction of theirs that held back the
    /// events ended.
    moves: tokio::sync::watch::Receiver<u64>,
}

/// How long to wait for an older transaction before looking again, at most.
const HELD_BACK_RETRY_CAP: Duration = Duration::from_millis(20);

impl EventStore {
    /// A subscription that starts after `from` (use [`Position::START`] for everything).
    pub async fn subscribe(&self, filter: Filter, from: Position) -> Result<Subscription, StoreError> {
        let mut subscription = Subscription {
            store: self.clone(),
            filter,
            position: from,
            page_size: 1000,
            poll_interval: Duration::from_millis(500),
            listener: None,
            local_wake_ups: self.notifier.local_wake_ups(),
            moves: self.progress.moves(),
        };
        // Listen before the first read, so no wake-up between that read and the wait is lost.
        subscription.connect_listener().await;
        Ok(subscription)
    }
}

impl Subscription {
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// How often to look for new events when no notification comes (e.g. from other writers).
    pub fn with_poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// The position of the last event delivered.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The next page of events, waiting until there is at least one.
    pub async fn next_batch(&mut self) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut retry = Duration::from_millis(1);
        loop {
            if let Some(batch) = self.poll().await? {
                return Ok(batch);
            }
            let category = match &self.filter {
                Filter::All => None,
                Filter::Category(category) => Some(category.as_str()),
            };
            if self.store.events_held_back(category).await? {
                // Never skipped: the events behind an open transaction are read once it ends,
                // which an append or another subscriber of this process announces; others'
                // only time tells.
                let ended = async {
                    tokio::select! {
                        _ = self.local_wake_ups.changed() => {}
                        _ = self.moves.changed() => {}
                    }
                };
                let _ = tokio::time::timeout(retry, ended).await;
                retry = (retry * 2).min(HELD_BACK_RETRY_CAP);
                continue;
            }
            retry = Duration::from_millis(1);
            self.wait_for_wake_up().await;
        }
    }

    /// The next page if one is ready now, without waiting.
    pub async fn poll(&mut self) -> Result<Option<Vec<RecordedEvent>>, StoreError> {
        let batch = match &self.filter {
            Filter::All => self.store.read_all(self.position, self.page_size).await?,
            Filter::Category(category) => {
                self.store
                    .read_category(category, self.position, self.page_size)
                    .await?
            }
        };
        Ok(batch.last().map(|last| last.position).map(|last| {
            self.position = last;
            batch
        }))
    }

    /// Until an append in this process, a notification from another, or the poll interval.
    async fn wait_for_wake_up(&mut self) {
        let local = self.local_wake_ups.changed();
        let Some(listener) = self.listener.as_mut() else {
            let _ = tokio::time::timeout(self.poll_interval, local).await;
            self.connect_listener().await;
            return;
        };
        let remote = tokio::time::timeout(self.poll_interval, listener.recv());
        tokio::select! {
            _ = local => {}
            received = remote => {
                if let Ok(Err(error)) = received {
                    tracing::warn!(%error, "subscription lost its listener; polling until it reconnects");
                    self.listener = None;
                }
            }
        }
    }

    async fn connect_listener(&mut self) {
        let connected = async {
            let mut listener = PgListener::connect_with(self.store.pool()).await?;
            listener.listen(WAKE_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match connected.await {
            Ok(listener) => self.listener = Some(listener),
            Err(error) => tracing::warn!(%error, "subscription could not listen; polling instead"),
        }
    }
}
