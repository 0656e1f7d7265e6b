//! The event store: append to streams with optimistic concurrency, read a stream, `$all` or a
//! category, and subscribe with checkpoints. Knows nothing of cases.
//!
//! Global order is `(tx_id, position)`: readers of `$all` only pass transactions older than every
//! transaction still in flight, so a slow writer can delay delivery but never be skipped.

mod append;
mod checkpoint;
mod error;
mod event;
mod group;
mod handler;
mod notifier;
mod parked;
mod position;
mod progress;
mod read;
pub mod stage;
mod stats;
mod stream_metadata;
mod subscription;
mod vault;

use sqlx::PgPool;

pub use append::{AppendResult, ExpectedRevision, StreamAppend, append_batch, append_with};
pub use checkpoint::{
    SubscriberError, SubscriberLease, SubscriberOptions, load_checkpoint, move_checkpoint, run_subscriber,
    save_checkpoint,
};
pub use error::StoreError;
pub use event::{EventMetadata, NewEvent, RecordedEvent};
pub use group::GroupCommitSettings;
pub use handler::{ATTEMPTS, EventHandler, HandlerError};
pub use parked::{ParkedError, ParkedEvent};
pub use position::Position;
pub use progress::{PROGRESS_CHANNEL, Progress};
pub use read::{Direction, ReadFrom, read_stream_with, read_streams_with};
pub use stats::{Checkpoint, Lag};
pub use stream_metadata::StreamMetadata;
pub use subscription::{Filter, Subscription};
pub use vault::{DataKey, ERASED, Kek, KeyError, PersonalFields, SEALED, Vault, is_sealed};

/// Every migration of the service's database; the one place that embeds `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The PostgreSQL channel that wakes subscribers after an append commits.
pub const WAKE_CHANNEL: &str = "caseledger_events";

/// A handle on the store; cheap to clone. Create it inside a Tokio runtime: it starts a small
/// task that sends the wake-up notifications.
#[derive(Debug, Clone)]
pub struct EventStore {
    pool: PgPool,
    notifier: notifier::Notifier,
    group: group::GroupCommit,
    progress: Progress,
    /// Seals personal fields on the way in and opens them for readers who show them.
    vault: Option<Vault>,
}

impl EventStore {
    pub fn new(pool: PgPool) -> Self {
        let notifier = notifier::Notifier::spawn(pool.clone());
        let progress = Progress::spawn(pool.clone());
        let group = group::GroupCommit::spawn(pool.clone(), notifier.clone(), GroupCommitSettings::default());
        Self {
            pool,
            notifier,
            group,
            progress,
            vault: None,
        }
    }

    /// With a vault: personal fields are sealed when appended through the commands, and
    /// [`EventStore::open_sealed`] opens them.
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    /// With appends grouped as `settings` say (see [`GroupCommitSettings`]).
    pub fn with_group_commit(mut self, settings: GroupCommitSettings) -> Self {
        self.group = group::GroupCommit::spawn(self.pool.clone(), self.notifier.clone(), settings);
        self
    }

    pub fn vault(&self) -> Option<&Vault> {
        self.vault.as_ref()
    }

    /// Opens the sealed fields of `events` for a reader who shows them (see [`Vault::open`]);
    /// without a vault they stay sealed.
    pub async fn open_sealed(&self, events: &mut [RecordedEvent]) -> Result<(), StoreError> {
        match &self.vault {
            Some(vault) => vault.open(&self.pool, events).await,
            None => Ok(()),
        }
    }

    /// Opens sealed values a read model keeps apart from their events (see
    /// [`Vault::open_values`]); without a vault they stay sealed.
    pub async fn open_sealed_values(
        &self,
        values: &mut [(uuid::Uuid, &str, &mut serde_json::Value)],
    ) -> Result<(), StoreError> {
        match &self.vault {
            Some(vault) => vault.open_values(&self.pool, values).await,
            None => Ok(()),
        }
    }

    /// Where the named subscribers have got to: wait here to read your own writes.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Wakes live subscribers. [`EventStore::append`] does this itself; call it after committing
    /// a transaction that used [`append_with`].
    pub fn wake_subscribers(&self) {
        self.notifier.poke();
    }
}
