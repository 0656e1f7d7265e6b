//! The four parties' views: ICB assurance, LMC oversight, DHU liaison, champion caseload. Each
//! is a projection query; the cases in it are seen through the caller's lens.

use async_graphql::{Context, Object, SimpleObject};
use caseledger_cases::Role as DomainRole;
use caseledger_projections::case_view::{self, CaseFilter, Cursor};
use caseledger_projections::figures;
use chrono::{DateTime, NaiveDate, Utc};

use super::case::{CaseData, CaseNode};
use super::enums::{CaseStatus, DhuReportStatus};
use super::reports::{DhuReport, dhu_reports};
use super::scalars::Date;
use super::summary::{ComplianceSummary, TrendPoint};
use super::{reads, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

const MAX_PAGE: i32 = 500;
/// The most cases an unpaged list returns.
const MAX_LIST: i64 = 500;
/// What an unpaged list costs per selection of its cases: such lists (a caseload, the cases
/// waiting for the DHU) are short in practice, and capped at [`MAX_LIST`].
const LIST_COST: usize = 100;
/// A paged list's cost: each of `first` cases costs what its selection costs.
fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = usize::try_from(first.unwrap_or(50).clamp(0, MAX_PAGE)).unwrap_or_default();
    1 + first.saturating_mul(child_complexity.max(1))
}

#[derive(SimpleObject, Debug)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject, Debug)]
pub struct CaseEdge {
    pub node: CaseNode,
    pub cursor: String,
}

#[derive(SimpleObject, Debug)]
pub struct CaseConnection {
    pub edges: Vec<CaseEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

fn statuses(statuses: Option<Vec<CaseStatus>>) -> Option<Vec<caseledger_cases::CaseStatus>> {
    statuses.map(|s| s.into_iter().map(Into::into).collect())
}

/// What an overdue list costs beyond its selection: it reads up to 20,000 open cases, so few of
/// them fit in one operation.
const OVERDUE_COST: usize = 3_000;

/// The open cases `filter` selects whose stage is late today, longest overdue first (at most
/// [`MAX_LIST`]). Every open case's deadline is worked out from its few stage columns; only the
/// late ones shown are read whole.
async fn overdue(
    ctx: &Context<'_>,
    filter: CaseFilter,
    stages: Option<&[super::deadline::Stage]>,
) -> ApiResult<Vec<CaseNode>> {
    const MAX_OPEN: i64 = 20_000;
    let filter = CaseFilter {
        open: Some(true),
        ..filter
    };
    // Both reads from one pool: a replica that falls behind is not mixed with the primary.
    let pool = reads(ctx);
    let open = case_view::stages(pool, &filter, MAX_OPEN)
        .await
        .map_err(ApiError::from)
        .gql()?;
    let mut late = super::deadline::overdue(&state(ctx).deadlines, open, caseledger_clock::today(), stages);
    late.truncate(usize::try_from(MAX_LIST).unwrap_or(500));
    let rows = case_view::by_ids(pool, &filter, &late)
        .await
        .map_err(ApiError::from)
        .gql()?;
    nodes(ctx, rows)
}

/// `rows` as the caller may read each.
fn nodes(ctx: &Context<'_>, rows: Vec<CaseData>) -> ApiResult<Vec<CaseNode>> {
    let actor = super::caller(ctx)?;
    Ok(rows.into_iter().map(|data| CaseNode::seen_by(data, actor)).collect())
}

async fn page(
    ctx: &Context<'_>,
    filter: CaseFilter,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<CaseConnection> {
    let first = first.unwrap_or(50);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(ApiError::bad_input("first", format!("must be from 0 to {MAX_PAGE}"))).gql();
    }
    let after = after
        .as_deref()
        .map(|text| Cursor::parse(text).ok_or_else(|| ApiError::bad_input("after", "not a cursor from this list")))
        .transpose()
        .gql()?;
    let actor = super::caller(ctx)?;
    let page = case_view::page(reads(ctx), &filter, after, i64::from(first))
        .await
        .map_err(ApiError::from)
        .gql()?;
    let edges: Vec<CaseEdge> = page
        .rows
        .into_iter()
        .map(|data| CaseEdge {
            cursor: Cursor::of(&data).to_string(),
            node: CaseNode::seen_by(data, actor),
        })
        .collect();
    Ok(CaseConnection {
        page_info: PageInfo {
            has_next_page: page.has_next_page,
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        total_count: i32::try_from(page.total).unwrap_or(i32::MAX),
    })
}

async fn summary_at(
    ctx: &Context<'_>,
    as_of: Option<DateTime<Utc>>,
    known_at: Option<DateTime<Utc>>,
) -> ApiResult<ComplianceSummary> {
    let pool = reads(ctx);
    let summary = state(ctx)
        .figures
        .summary(pool, as_of, known_at)
        .await
        .map_err(ApiError::from)
        .gql()?;
    Ok(ComplianceSummary::of(
        summary,
        as_of.unwrap_or_else(caseledger_clock::now),
    ))
}

/// ICB assurance.
#[derive(Debug)]
pub struct IcbView {
    pub viewer: DomainRole,
}

#[Object]
impl IcbView {
    /// The active champions in the directory of people, by name: whom the ICB may assign a case
    /// to.
    async fn champions(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::people::ChampionChoice>> {
        super::people::champions(ctx).await
    }

    /// The report date of the latest dashboard extract imported: what the observed figures are as
    /// at (null before the first).
    async fn data_as_at(&self, ctx: &Context<'_>) -> ApiResult<Option<Date>> {
        let date = caseledger_projections::practice_view::latest_extract_date(reads(ctx))
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(date.map(Date))
    }

    /// Open cases whose stage is late (contact, remap, DHU check or ICB decision past its target
    /// in working days), longest overdue first, at most 500.
    #[graphql(complexity = "OVERDUE_COST + LIST_COST * child_complexity")]
    async fn overdue(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        overdue(ctx, CaseFilter::default(), None).await
    }

    /// asOf: business time (what was true then); knownAt: system time (what the system knew then).
    async fn summary(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime<Utc>>,
        known_at: Option<DateTime<Utc>>,
    ) -> ApiResult<ComplianceSummary> {
        summary_at(ctx, as_of, known_at).await
    }

    /// Cases in the order they were opened, a page at a time: in `status`, of a `place`, of a
    /// `pcn` (its code).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<CaseStatus>>,
        place: Option<String>,
        pcn: Option<String>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<CaseConnection> {
        let filter = CaseFilter {
            statuses: statuses(status),
            place,
            pcn_code: pcn,
            ..CaseFilter::default()
        };
        page(ctx, filter, first, after).await
    }

    /// DHU reports on practices that had no open case, for triage: in `status` (NEW by default),
    /// oldest first, at most 500.
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn dhu_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(vec![DhuReportStatus::New])")] status: Option<Vec<DhuReportStatus>>,
    ) -> ApiResult<Vec<DhuReport>> {
        dhu_reports(state(ctx), status, MAX_LIST, self.viewer).await
    }

    /// The first day (UTC) any case was open, as known now: where a trend of the cases starts;
    /// null before the first case.
    async fn trend_start(&self, ctx: &Context<'_>) -> ApiResult<Option<Date>> {
        let day = figures::trend_start(reads(ctx)).await.map_err(ApiError::from).gql()?;
        Ok(day.map(Date))
    }

    /// The state at the end of each day (UTC) from `from` to `to`, every `everyDays` days (1 to
    /// 366): at most 1,000 points, between 2000-01-01 and ten years from today. Of every practice
    /// and case, or of one `place` or one `pcn` (its code).
    #[graphql(complexity = 50)]
    async fn trend(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        #[graphql(default = 7)] every_days: Option<i32>,
        place: Option<String>,
        pcn: Option<String>,
    ) -> ApiResult<Vec<TrendPoint>> {
        let every_days = trend_range(from.0, to.0, every_days.unwrap_or(7), caseledger_clock::today()).gql()?;
        let scope = figures::TrendScope {
            place: place.as_deref(),
            pcn_code: pcn.as_deref(),
        };
        let points = figures::trend(reads(ctx), from.0, to.0, every_days, scope)
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(points.into_iter().map(Into::into).collect())
    }
}

/// LMC oversight: support, not sanctions; contract review as a count only.
#[derive(Debug)]
pub struct LmcView;

#[Object]
impl LmcView {
    /// Open cases whose stage is late, longest overdue first, at most 500: where support is slow.
    #[graphql(complexity = "OVERDUE_COST + LIST_COST * child_complexity")]
    async fn overdue(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        overdue(ctx, CaseFilter::default(), None).await
    }

    async fn summary(&self, ctx: &Context<'_>, as_of: Option<DateTime<Utc>>) -> ApiResult<ComplianceSummary> {
        summary_at(ctx, as_of, None).await
    }

    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<CaseStatus>>,
        place: Option<String>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<CaseConnection> {
        page(
            ctx,
            CaseFilter {
                statuses: statuses(status),
                place,
                ..CaseFilter::default()
            },
            first,
            after,
        )
        .await
    }

    /// How many cases went to contract review (count only).
    async fn contract_reviews(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let count = case_view::contract_reviews(reads(ctx))
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }

    /// Are practices supported, not sanctioned? Over every case (each case's current episode),
    /// in working days: all cases and by place. It reads every case (a national ICB has about
    /// 6,300) each time it is asked: priced as a list read.
    #[graphql(complexity = "LIST_COST + child_complexity")]
    async fn support(&self, ctx: &Context<'_>) -> ApiResult<LmcSupport> {
        let app = state(ctx);
        let rows = case_view::support::support_rows(app.reads.pool())
            .await
            .map_err(ApiError::from)
            .gql()?;
        let figures = case_view::support::support_figures(&rows, &app.deadlines.calendar);
        Ok(LmcSupport {
            all: figures.all.into(),
            by_place: figures
                .by_place
                .into_iter()
                .map(|(place, support)| PlaceSupport {
                    place,
                    support: support.into(),
                })
                .collect(),
        })
    }
}

/// Whether support came first: every case's answer, and each place's.
#[derive(SimpleObject, Debug)]
pub struct LmcSupport {
    pub all: SupportAnswer,
    pub by_place: Vec<PlaceSupport>,
}

#[derive(SimpleObject, Debug)]
pub struct PlaceSupport {
    pub place: String,
    pub support: SupportAnswer,
}

/// One group's answer: each case's current episode, working days by England and Wales's calendar.
#[derive(SimpleObject, Debug)]
pub struct SupportAnswer {
    pub cases: i32,
    pub open_cases: i32,
    /// Open cases whose current episode has had no support yet.
    pub open_without_support: i32,
    /// Cases whose current episode has had support (a contact, guidance, a root cause, a remap
    /// or GP Connect re-enabled).
    pub supported: i32,
    /// The median working days from the episode's opening to its first support.
    pub median_working_days_to_support: Option<f64>,
    /// Cases escalated to contract review, and of those the ones supported before it.
    pub reviewed: i32,
    pub supported_before_review: i32,
}

impl From<case_view::support::Support> for SupportAnswer {
    fn from(s: case_view::support::Support) -> Self {
        let int = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        Self {
            cases: int(s.cases),
            open_cases: int(s.open_cases),
            open_without_support: int(s.open_without_support),
            supported: int(s.supported),
            median_working_days_to_support: s.median_working_days_to_support,
            reviewed: int(s.reviewed),
            supported_before_review: int(s.supported_before_review),
        }
    }
}

/// DHU liaison: what awaits its check.
#[derive(Debug)]
pub struct DhuView {
    pub viewer: DomainRole,
}

#[Object]
impl DhuView {
    /// Cases whose DHU check is late (more working days since the last remap than the target),
    /// longest overdue first, at most 500.
    #[graphql(complexity = "OVERDUE_COST + LIST_COST * child_complexity")]
    async fn overdue(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let filter = CaseFilter {
            statuses: Some(vec![caseledger_cases::CaseStatus::Remapped]),
            ..CaseFilter::default()
        };
        // Only checks: a remapped case the DHU found short waits for the champion, not the DHU.
        overdue(ctx, filter, Some(&[super::deadline::Stage::DhuCheck])).await
    }

    /// REMAPPED, with no open issue and no shortfall since the last remap (at most 500, oldest
    /// first).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn awaiting_confirmation(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let rows = case_view::awaiting_dhu(reads(ctx), MAX_LIST)
            .await
            .map_err(ApiError::from)
            .gql()?;
        nodes(ctx, rows)
    }

    /// Open cases whose latest DHU look since the last remap saw fewer slots than required: the
    /// shortfalls the DHU reported, waiting for a remap (at most 500, oldest look first).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn shortfalls(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let rows = case_view::dhu_shortfalls(reads(ctx), MAX_LIST)
            .await
            .map_err(ApiError::from)
            .gql()?;
        nodes(ctx, rows)
    }

    /// Open cases where the DHU has reported an issue (at most 500, oldest first).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn open_issues(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let rows = case_view::open_dhu_issues(reads(ctx), MAX_LIST)
            .await
            .map_err(ApiError::from)
            .gql()?;
        nodes(ctx, rows)
    }

    /// The cases the DHU confirmed at or above the requirement (and that confirmation stands):
    /// not those confirmed compliant on dashboard evidence alone.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn confirmed(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<CaseConnection> {
        page(
            ctx,
            CaseFilter {
                dhu_confirmed: true,
                ..CaseFilter::default()
            },
            first,
            after,
        )
        .await
    }

    /// The DHU's reports on practices that had no open case, and what the ICB did with each
    /// (at most 500, oldest first).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn reports(&self, ctx: &Context<'_>, status: Option<Vec<DhuReportStatus>>) -> ApiResult<Vec<DhuReport>> {
        dhu_reports(state(ctx), status, MAX_LIST, self.viewer).await
    }
}

/// A Digital Champion's caseload.
#[derive(Debug)]
pub struct ChampionView {
    pub champion_id: String,
}

#[Object]
impl ChampionView {
    /// The caller's cases (at most 500).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn my_cases(&self, ctx: &Context<'_>, status: Option<Vec<CaseStatus>>) -> ApiResult<Vec<CaseNode>> {
        let filter = CaseFilter {
            statuses: statuses(status),
            assigned_to: Some(self.champion_id.clone()),
            ..CaseFilter::default()
        };
        let rows = case_view::list(reads(ctx), &filter, MAX_LIST)
            .await
            .map_err(ApiError::from)
            .gql()?;
        nodes(ctx, rows)
    }

    /// The caller's open cases whose stage is late, longest overdue first.
    #[graphql(complexity = "OVERDUE_COST + LIST_COST * child_complexity")]
    async fn overdue(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let filter = CaseFilter {
            assigned_to: Some(self.champion_id.clone()),
            ..CaseFilter::default()
        };
        overdue(ctx, filter, None).await
    }

    /// Open cases nobody has taken (at most 500, oldest first).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn unassigned(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let rows = case_view::list(
            reads(ctx),
            &CaseFilter {
                open: Some(true),
                unassigned: true,
                ..CaseFilter::default()
            },
            MAX_LIST,
        )
        .await
        .map_err(ApiError::from)
        .gql()?;
        nodes(ctx, rows)
    }
}

/// The step of a trend from `from` to `to` every `every_days` days, or why it is refused: a
/// trend is at most 1,000 points, from 2000-01-01 to ten years after `today`.
fn trend_range(from: NaiveDate, to: NaiveDate, every_days: i32, today: NaiveDate) -> Result<u32, ApiError> {
    const MAX_POINTS: i64 = 1_000;
    if !(1..=366).contains(&every_days) {
        return Err(ApiError::bad_input("everyDays", "must be from 1 to 366"));
    }
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = today
        .checked_add_days(chrono::Days::new(3_660))
        .unwrap_or(NaiveDate::MAX);
    for (name, day) in [("from", from), ("to", to)] {
        if day < earliest || day > latest {
            return Err(ApiError::bad_input(
                name,
                format!("must be from {earliest} to {latest}"),
            ));
        }
    }
    if to < from {
        return Err(ApiError::bad_input("to", "must be on or after `from`"));
    }
    let points = (to - from).num_days() / i64::from(every_days) + 1;
    if points > MAX_POINTS {
        return Err(ApiError::bad_input(
            "everyDays",
            format!("{points} points asked for; at most {MAX_POINTS}: ask for a shorter range or fewer points"),
        ));
    }
    Ok(every_days.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn a_trend_is_bounded_in_step_range_and_points() {
        let today = day("2026-11-28");
        assert_eq!(trend_range(day("2026-01-01"), today, 7, today).ok(), Some(7));
        let refused = |from: &str, to: &str, every: i32| trend_range(day(from), day(to), every, today).is_err();
        assert!(refused("2026-01-01", "2026-02-01", 0));
        assert!(refused("2026-01-01", "2026-02-01", i32::MAX));
        assert!(refused("2026-01-01", "2026-02-01", -7));
        assert!(refused("1999-12-31", "2026-02-01", 7));
        assert!(refused("2026-01-01", "+262142-12-31", 7));
        assert!(refused("2026-02-01", "2026-01-01", 7));
        assert!(refused("2000-01-01", "2030-01-01", 1), "10,000 daily points");
    }
}
