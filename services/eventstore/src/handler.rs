//! What a subscriber's own code is to the store: an [`EventHandler`] whose writes commit with its
//! checkpoint, the errors it may return, and the guard that turns its panics into errors (so an
//! event it cannot take is retried and parked like one it fails on).

use std::future::Future;

use sqlx::PgConnection;

use crate::{RecordedEvent, StoreError};

/// Failure of a subscriber's own code. A batch that fails is handled again an event at a time;
/// an event that still fails after [`ATTEMPTS`] is parked, unless the failure is the database
/// going away (then the runner stops, and starts again).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Tries of one event before it is parked.
pub const ATTEMPTS: u32 = 3;

/// Whether `error` is the database (or the way to it) failing, which retrying later mends,
/// rather than something about the event.
pub(crate) fn transient(error: &HandlerError) -> bool {
    matches!(
        error.downcast_ref::<sqlx::Error>(),
        Some(
            sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
        )
    ) || error.downcast_ref::<StoreError>().is_some()
}

/// Runs a handler's work, turning a panic into an error about the event: a handler that panics
/// on an event (a bug, or an event it cannot take) is retried and parked like one that fails,
/// instead of taking its subscriber down with it.
pub(crate) async fn guarded(work: impl Future<Output = Result<(), HandlerError>>) -> Result<(), HandlerError> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err(format!("the handler panicked: {message}").into())
        }
    }
}

/// A subscriber's effect: writes made through `tx` commit together with its checkpoint. A batch
/// is a page of events in global order; a handler that can do a page's work in a few statements
/// overrides `handle_batch`.
pub trait EventHandler: Send + Sync {
    /// Whether an event of type `event_type` can change what this handler keeps. A batch with
    /// none it reads is not handed to it (its subscriber only moves its checkpoint), and a writer
    /// waiting to read its own writes does not wait for it. Answer `true` unless sure: a type
    /// answered `false` must leave the handler's tables exactly as they were.
    fn reads(&self, event_type: &str) -> bool {
        let _ = event_type;
        true
    }

    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        event: &'a RecordedEvent,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;

    fn handle_batch<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a {
        async move {
            for event in events {
                self.handle(tx, event).await?;
            }
            Ok(())
        }
    }
}
