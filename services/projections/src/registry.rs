//! Every projection, registered once: each projection's module declares its name and tables
//! (`Registered`) beside its handler, and the list below names each projection once. The
//! runner, the rebuild, waiting for the views, the lag metrics and the admin's parked events all
//! read this.

use std::sync::Arc;

use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use futures_util::future::BoxFuture;
use sqlx::PgConnection;

use crate::answer_view::AnswerViewProjection;
use crate::calls_view::CallsViewProjection;
use crate::case_view::CaseViewProjection;
pub use crate::declared::Registered;
use crate::dhu_report_view::DhuReportViewProjection;
use crate::diversion_view::DiversionViewProjection;
use crate::dos_view::DosViewProjection;
use crate::figures::FiguresProjection;
use crate::practice_view::PracticeViewProjection;
use crate::telephony_view::TelephonyViewProjection;

/// Names every projection once: the list of names and of projections both come from it.
macro_rules! register {
    ($($handler:ty),+ $(,)?) => {
        /// Every projection's name, in the order registered.
        pub const NAMES: &[&str] = &[$(<$handler as Registered>::NAME),+];

        impl Projection {
            /// Every projection.
            pub fn all() -> Vec<Projection> {
                vec![$(Projection::of::<$handler>()),+]
            }
        }
    };
}

register!(
    CaseViewProjection,
    PracticeViewProjection,
    DhuReportViewProjection,
    FiguresProjection,
    DiversionViewProjection,
    CallsViewProjection,
    TelephonyViewProjection,
    DosViewProjection,
    AnswerViewProjection,
);

/// One registered projection: its name, its tables and its handler.
#[derive(Clone)]
pub struct Projection {
    name: &'static str,
    tables: &'static [&'static str],
    handler: Handler,
}

impl std::fmt::Debug for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projection")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Projection {
    fn of<H: Registered>() -> Self {
        Self {
            name: H::NAME,
            tables: H::TABLES,
            handler: Handler(Arc::new(H::default())),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn tables(&self) -> &'static [&'static str] {
        self.tables
    }

    /// Its handler, for a subscriber, a rebuild or a retried parked event.
    pub fn handler(&self) -> &Handler {
        &self.handler
    }

    pub fn parse(name: &str) -> Option<Projection> {
        Self::all().into_iter().find(|p| p.name == name)
    }
}

/// A projection's handler, whichever it is (each is its own type; the runner, the rebuild and
/// the parked events take any).
#[derive(Clone)]
pub struct Handler(Arc<dyn AnyHandler>);

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handler")
    }
}

trait AnyHandler: Send + Sync {
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        event: &'a RecordedEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>>;
    fn handle_batch<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), HandlerError>>;
}

impl<H: EventHandler> AnyHandler for H {
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        event: &'a RecordedEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(EventHandler::handle(self, tx, event))
    }

    fn handle_batch<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(EventHandler::handle_batch(self, tx, events))
    }
}

impl EventHandler for Handler {
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        event: &'a RecordedEvent,
    ) -> impl std::future::Future<Output = Result<(), HandlerError>> + Send + 'a {
        self.0.handle(tx, event)
    }

    fn handle_batch<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> impl std::future::Future<Output = Result<(), HandlerError>> + Send + 'a {
        self.0.handle_batch(tx, events)
    }
}
