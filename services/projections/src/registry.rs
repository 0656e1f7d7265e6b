//! Every projection, registered once: its name (which is also its subscriber's and its table's)
//! and its handler. The runner, the rebuild and everything that counts projections read this.

/// The projections the service keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    CaseView,
    PracticeView,
    DhuReportView,
}

impl Projection {
    pub const ALL: [Projection; 3] = [
        Projection::CaseView,
        Projection::PracticeView,
        Projection::DhuReportView,
    ];

    /// Its name: the subscriber's, and the table's.
    pub const fn name(self) -> &'static str {
        match self {
            Projection::CaseView => crate::case_view::NAME,
            Projection::PracticeView => crate::practice_view::NAME,
            Projection::DhuReportView => crate::dhu_report_view::NAME,
        }
    }

    pub fn parse(name: &str) -> Option<Projection> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Every projection's name.
pub const NAMES: [&str; 3] = [
    Projection::CaseView.name(),
    Projection::PracticeView.name(),
    Projection::DhuReportView.name(),
];

/// Runs `$body` with `$handler` bound to the handler of `$projection` (the handlers are different
/// types, so each use is expanded once per projection).
#[macro_export]
macro_rules! with_handler {
    ($projection:expr, |$handler:ident| $body:expr) => {
        match $projection {
            $crate::registry::Projection::CaseView => {
                let $handler = $crate::case_view::CaseViewProjection;
                $body
            }
            $crate::registry::Projection::PracticeView => {
                let $handler = $crate::practice_view::PracticeViewProjection;
                $body
            }
            $crate::registry::Projection::DhuReportView => {
                let $handler = $crate::dhu_report_view::DhuReportViewProjection;
                $body
            }
        }
    };
}
