//! Every projection, registered once: its name (its subscriber's), the tables it keeps, and its
//! handler. The runner, the rebuild, waiting for the views, the lag metrics and the admin's parked
//! events all read this.

/// The projections the service keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    CaseView,
    PracticeView,
    DhuReportView,
    Figures,
}

impl Projection {
    pub const ALL: [Projection; 4] = [
        Projection::CaseView,
        Projection::PracticeView,
        Projection::DhuReportView,
        Projection::Figures,
    ];

    /// Its name: the subscriber's.
    pub const fn name(self) -> &'static str {
        match self {
            Projection::CaseView => crate::case_view::NAME,
            Projection::PracticeView => crate::practice_view::NAME,
            Projection::DhuReportView => crate::dhu_report_view::NAME,
            Projection::Figures => crate::figures::NAME,
        }
    }

    /// The tables it keeps (a rebuild makes them all anew and swaps them in together).
    pub const fn tables(self) -> &'static [&'static str] {
        match self {
            Projection::CaseView => &["case_view"],
            Projection::PracticeView => &[
                "practice_view",
                "practice_observations",
                "dhu_observations",
                "extract_dates",
                "practice_case_map",
                "pcns",
                "slot_verifications",
            ],
            Projection::DhuReportView => &["dhu_report_view"],
            Projection::Figures => &[
                "case_timeline",
                "practice_timeline",
                "practice_timeline_latest",
                "trend_steps",
                "trend_totals",
                "figures_version",
            ],
        }
    }

    pub fn parse(name: &str) -> Option<Projection> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Every projection's name.
pub const NAMES: [&str; 4] = [
    Projection::CaseView.name(),
    Projection::PracticeView.name(),
    Projection::DhuReportView.name(),
    Projection::Figures.name(),
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
            $crate::registry::Projection::Figures => {
                let $handler = $crate::figures::FiguresProjection;
                $body
            }
        }
    };
}
