//! Compliance summaries and trends, as the `figures` read model answers them: at any business
//! time (`asOf`) as known at any system time (`knownAt`), an aggregate over indexed rows. The
//! arithmetic (what counts as open, compliant, within N days) is the read model's one definition;
//! this module only shapes it for GraphQL.

use std::sync::Arc;

use async_graphql::SimpleObject;
use caseledger_projections::figures::{self, Figures, Summary};
use chrono::{DateTime, Utc};

use super::enums::CaseStatus;
use super::scalars::Date;
use crate::error::ApiError;

/// The figures. One definition: a case is *open* until COMPLIANT or CLOSED; a case is *compliant*
/// when its current episode (since the flag or the last reopen) reached compliance, whether or not
/// it was closed after; its *time to compliance* is from the episode's opening to that
/// confirmation; *within N days* counts the compliant cases whose time was at most N days, as a
/// share of the cases opened.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
#[graphql(complex)]
pub struct ComplianceSummary {
    pub as_of: DateTime<Utc>,
    /// Practices with at least one observation.
    pub practices: i32,
    /// Latest observation at `asOf` below the requirement.
    pub non_compliant_practices: i32,
    pub cases_opened: i32,
    /// Not COMPLIANT, not CLOSED.
    pub open_cases: i32,
    /// Cases whose current episode reached compliance (closed afterwards or not).
    pub compliant_cases: i32,
    pub closed_cases: i32,
    /// openedAt → compliantAt, over the compliant cases.
    pub median_days_to_compliance: Option<f64>,
    pub by_status: Vec<StatusCount>,
    pub by_place: Vec<PlaceSummary>,
    #[graphql(skip)]
    pub figures: Group,
}

/// One group of a summary's figures (all, a place, a PCN), shared with the summary it is of
/// rather than copied: a summary at national size holds 1,250 PCNs' figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    summary: Arc<Summary>,
    which: Which,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    All,
    Place(usize),
    Pcn(usize),
}

impl Group {
    fn get(&self) -> &Figures {
        fn at(groups: &[(String, Figures)], i: usize) -> Option<&Figures> {
            groups.get(i).map(|(_, f)| f)
        }
        match self.which {
            Which::All => Some(&self.summary.all),
            Which::Place(i) => at(&self.summary.by_place, i),
            Which::Pcn(i) => at(&self.summary.by_pcn, i),
        }
        .unwrap_or(&self.summary.all)
    }
}

/// How many cases reached compliance within a number of days of opening.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct WithinDays {
    pub days: i32,
    pub count: i32,
    /// `count` as a percentage of the cases opened; null when none were.
    pub percentage: Option<f64>,
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn within(figures: &Figures, days: i32) -> async_graphql::Result<WithinDays> {
    let checked = u32::try_from(days).ok().filter(|d| *d <= 3660).ok_or_else(|| {
        async_graphql::ErrorExtensions::extend(&ApiError::bad_input("days", "must be from 0 to 3660"))
    })?;
    let count = int(figures.compliant_within_days(checked));
    let opened = int(figures.cases_opened);
    Ok(WithinDays {
        days,
        count,
        percentage: (opened > 0).then(|| f64::from(count) * 100.0 / f64::from(opened)),
    })
}

#[async_graphql::ComplexObject]
impl ComplianceSummary {
    /// The compliant cases whose time to compliance was at most `days` (8 weeks by default).
    async fn compliant_within_days(&self, #[graphql(default = 56)] days: i32) -> async_graphql::Result<WithinDays> {
        within(self.figures.get(), days)
    }

    /// The figures of each PCN (its code, name and place), the PCNs with most practices below
    /// the requirement and most open cases first: where attention is needed.
    #[graphql(complexity = 50)]
    async fn by_pcn(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Vec<PcnSummary>> {
        let names = caseledger_projections::practice_view::pcn_names(super::reads(ctx))
            .await
            .map_err(|e| async_graphql::ErrorExtensions::extend(&ApiError::from(e)))?;
        let summary = &self.figures.summary;
        let mut pcns: Vec<PcnSummary> = summary
            .by_pcn
            .iter()
            .enumerate()
            .map(|(i, (code, figures))| {
                let (name, place) = names.get(code).cloned().unwrap_or_default();
                PcnSummary {
                    pcn_code: code.clone(),
                    pcn_name: name,
                    place,
                    practices: int(figures.practices),
                    non_compliant_practices: int(figures.non_compliant_practices),
                    open_cases: int(figures.open_cases),
                    compliant_cases: int(figures.compliant_cases),
                    cases_opened: int(figures.cases_opened),
                    median_days_to_compliance: figures.median_days_to_compliance(),
                    figures: Group {
                        summary: summary.clone(),
                        which: Which::Pcn(i),
                    },
                }
            })
            .collect();
        pcns.sort_by(|a, b| {
            (b.non_compliant_practices, b.open_cases, &a.pcn_code).cmp(&(
                a.non_compliant_practices,
                a.open_cases,
                &b.pcn_code,
            ))
        });
        Ok(pcns)
    }

    /// The compliant cases by time to compliance, in stretches of `bucketDays` (1 to 366; a week
    /// by default) from 0 up to the longest: a histogram.
    #[graphql(complexity = 20)]
    async fn time_to_compliance(
        &self,
        #[graphql(default = 7)] bucket_days: i32,
    ) -> async_graphql::Result<Vec<ComplianceBucket>> {
        let width = u32::try_from(bucket_days)
            .ok()
            .filter(|d| (1..=366).contains(d))
            .ok_or_else(|| {
                async_graphql::ErrorExtensions::extend(&ApiError::bad_input("bucketDays", "must be from 1 to 366"))
            })?;
        Ok(self
            .figures
            .get()
            .time_to_compliance(width)
            .into_iter()
            .enumerate()
            .map(|(i, count)| {
                let from = i32::try_from(i).unwrap_or(i32::MAX).saturating_mul(bucket_days);
                ComplianceBucket {
                    from_days: from,
                    to_days: from.saturating_add(bucket_days),
                    count: int(count),
                }
            })
            .collect())
    }
}

/// A Primary Care Network's figures.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
#[graphql(complex)]
pub struct PcnSummary {
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    /// Its practices with at least one observation.
    pub practices: i32,
    pub non_compliant_practices: i32,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub cases_opened: i32,
    pub median_days_to_compliance: Option<f64>,
    #[graphql(skip)]
    pub figures: Group,
}

#[async_graphql::ComplexObject]
impl PcnSummary {
    /// The PCN's compliant cases whose time to compliance was at most `days`.
    async fn compliant_within_days(&self, #[graphql(default = 56)] days: i32) -> async_graphql::Result<WithinDays> {
        within(self.figures.get(), days)
    }
}

/// Compliant cases whose time to compliance was at least `fromDays` and under `toDays`.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct ComplianceBucket {
    pub from_days: i32,
    pub to_days: i32,
    pub count: i32,
}

#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct StatusCount {
    pub status: CaseStatus,
    pub count: i32,
}

#[derive(SimpleObject, Debug, Clone, PartialEq)]
#[graphql(complex)]
pub struct PlaceSummary {
    pub place: String,
    /// The place's practices with at least one observation.
    pub practices: i32,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub non_compliant_practices: i32,
    pub cases_opened: i32,
    /// openedAt → compliantAt, over the place's compliant cases.
    pub median_days_to_compliance: Option<f64>,
    #[graphql(skip)]
    pub figures: Group,
}

#[async_graphql::ComplexObject]
impl PlaceSummary {
    /// The place's compliant cases whose time to compliance was at most `days`.
    async fn compliant_within_days(&self, #[graphql(default = 56)] days: i32) -> async_graphql::Result<WithinDays> {
        within(self.figures.get(), days)
    }
}

/// The state at the end of that day (UTC), by business time.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub date: Date,
    pub open_cases: i32,
    pub compliant_cases: i32,
    pub non_compliant_practices: i32,
}

impl From<figures::TrendPoint> for TrendPoint {
    fn from(point: figures::TrendPoint) -> Self {
        Self {
            date: Date(point.date),
            open_cases: int(point.open_cases),
            compliant_cases: int(point.compliant_cases),
            non_compliant_practices: int(point.non_compliant_practices),
        }
    }
}

impl ComplianceSummary {
    pub fn of(summary: Arc<Summary>, as_of: DateTime<Utc>) -> Self {
        let all = &summary.all;
        let group = |which| Group {
            summary: summary.clone(),
            which,
        };
        Self {
            as_of,
            practices: int(all.practices),
            non_compliant_practices: int(all.non_compliant_practices),
            cases_opened: int(all.cases_opened),
            open_cases: int(all.open_cases),
            compliant_cases: int(all.compliant_cases),
            closed_cases: int(all.closed_cases),
            median_days_to_compliance: all.median_days_to_compliance(),
            by_status: all
                .by_status
                .iter()
                .map(|(status, count)| StatusCount {
                    status: (*status).into(),
                    count: int(*count),
                })
                .collect(),
            by_place: summary
                .by_place
                .iter()
                .enumerate()
                .map(|(i, (place, figures))| PlaceSummary {
                    place: place.clone(),
                    open_cases: int(figures.open_cases),
                    compliant_cases: int(figures.compliant_cases),
                    practices: int(figures.practices),
                    non_compliant_practices: int(figures.non_compliant_practices),
                    cases_opened: int(figures.cases_opened),
                    median_days_to_compliance: figures.median_days_to_compliance(),
                    figures: group(Which::Place(i)),
                })
                .collect(),
            figures: group(Which::All),
        }
    }
}
