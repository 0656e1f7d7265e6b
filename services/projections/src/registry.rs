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

/// The projections whose tables events of `types` can change: the views a writer of them waits
/// for to read its own writes. Every projection when `types` is empty (what was written is not
/// known).
pub fn readers_of(types: &[&str]) -> Vec<&'static str> {
    Projection::all()
        .into_iter()
        .filter(|projection| types.is_empty() || types.iter().any(|t| EventHandler::reads(&projection.handler, t)))
        .map(|projection| projection.name)
        .collect()
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
    fn reads(&self, event_type: &str) -> bool;
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
    fn reads(&self, event_type: &str) -> bool {
        EventHandler::reads(self, event_type)
    }

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
    fn reads(&self, event_type: &str) -> bool {
        self.0.reads(event_type)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_waits_for_the_views_its_events_can_change() {
        assert_eq!(
            readers_of(&["NoteAdded"]),
            vec!["case_view"],
            "a note changes no figure"
        );
        assert_eq!(
            readers_of(&["PracticeFlagged"]),
            vec!["case_view", "practice_view", "dhu_report_view", "figures"]
        );
        assert_eq!(readers_of(&["DiversionNotified"]), vec!["diversion_view"]);
        assert_eq!(
            readers_of(&["DosGapReported", "PracticeAnswered"]),
            vec!["dos_gap_view", "answer_view"]
        );
        assert_eq!(
            readers_of(&[]),
            NAMES.to_vec(),
            "not knowing what was written, every view"
        );
        // A type the catalogue does not know is a case's (its stream's kind by default): the
        // case view reads it, as it would fold it.
        assert!(readers_of(&["SomethingNew"]).contains(&"case_view"));
        for event_type in caseledger_cases::case::EVENT_TYPES {
            assert!(!readers_of(&[event_type]).is_empty(), "{event_type} changes no view");
        }
    }
}
