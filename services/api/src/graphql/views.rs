//! The four parties' views: ICB assurance, LMC oversight, DHU liaison, champion caseload. Each
//! is a projection query; the cases in it are seen through the caller's lens.

use async_graphql::{Context, Object, SimpleObject};
use caseledger_cases::Role as DomainRole;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::case::{CaseData, CaseNode};
use super::enums::{CaseStatus, DhuReportStatus};
use super::reports::{DhuReport, dhu_reports};
use super::scalars::Date;
use super::state;
use super::summary::{ComplianceSummary, TrendPoint, summarise};
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

/// Which cases a list holds.
#[derive(Debug, Default)]
struct CaseFilter {
    statuses: Option<Vec<String>>,
    place: Option<String>,
    assigned_to: Option<String>,
    /// Only cases whose DHU confirmation at or above the requirement stands.
    dhu_confirmed: bool,
}

fn status_names(statuses: Option<Vec<CaseStatus>>) -> Option<Vec<String>> {
    statuses.map(|s| {
        s.into_iter()
            .map(|s| caseledger_cases::CaseStatus::from(s).as_str().to_string())
            .collect()
    })
}

/// Cursor: the case's creation time and id, the list's order.
fn cursor_of(case: &CaseData) -> String {
    format!("{}_{}", case.created_at.timestamp_micros(), case.case_id)
}

fn parse_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad = || ApiError::bad_input("after", "not a cursor from this list");
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let at = micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

async fn page(
    ctx: &Context<'_>,
    viewer: DomainRole,
    filter: CaseFilter,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<CaseConnection> {
    let first = first.unwrap_or(50);
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(ApiError::bad_input("first", format!("must be from 0 to {MAX_PAGE}"))).gql();
    }
    let after = after.as_deref().map(parse_cursor).transpose().gql()?;
    let pool = state(ctx).store.pool();
    let rows = sqlx::query_as!(
        CaseData,
        "select * from case_view
          where ($1::text[] is null or status = any($1))
            and ($2::text is null or place = $2)
            and ($3::text is null or assigned_to = $3)
            and ($4::timestamptz is null or (created_at, case_id) > ($4, $5::uuid))
            and (not $7 or dhu_confirmed_at is not null)
          order by created_at, case_id
          limit $6",
        filter.statuses.as_deref(),
        filter.place,
        filter.assigned_to,
        after.map(|(at, _)| at),
        after.map(|(_, id)| id),
        i64::from(first) + 1,
        filter.dhu_confirmed,
    )
    .fetch_all(pool)
    .await
    .map_err(ApiError::from)
    .gql()?;
    let total: i64 = sqlx::query_scalar!(
        r#"select count(*) as "count!" from case_view
            where ($1::text[] is null or status = any($1))
              and ($2::text is null or place = $2)
              and ($3::text is null or assigned_to = $3)
              and (not $4 or dhu_confirmed_at is not null)"#,
        filter.statuses.as_deref(),
        filter.place,
        filter.assigned_to,
        filter.dhu_confirmed,
    )
    .fetch_one(pool)
    .await
    .map_err(ApiError::from)
    .gql()?;
    let has_next_page = rows.len() > usize::try_from(first).unwrap_or_default();
    let edges: Vec<CaseEdge> = rows
        .into_iter()
        .take(usize::try_from(first).unwrap_or_default())
        .map(|data| CaseEdge {
            cursor: cursor_of(&data),
            node: CaseNode { data, viewer },
        })
        .collect();
    Ok(CaseConnection {
        page_info: PageInfo {
            has_next_page,
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        total_count: i32::try_from(total).unwrap_or(i32::MAX),
    })
}

async fn live_summary(ctx: &Context<'_>) -> ApiResult<ComplianceSummary> {
    let app = state(ctx);
    let snapshot = app.summary_cache.snapshot(app.store.pool()).await.gql()?;
    Ok(summarise(&snapshot, Utc::now()))
}

async fn summary_at(
    ctx: &Context<'_>,
    as_of: Option<DateTime<Utc>>,
    known_at: Option<DateTime<Utc>>,
) -> ApiResult<ComplianceSummary> {
    if as_of.is_none() && known_at.is_none() {
        return live_summary(ctx).await;
    }
    let now = Utc::now();
    let app = state(ctx);
    let timeline = app.timeline_cache.timeline(&app.store).await.gql()?;
    let as_of = as_of.unwrap_or(now);
    Ok(summarise(&timeline.snapshot(as_of, known_at.unwrap_or(now)), as_of))
}

/// ICB assurance.
#[derive(Debug)]
pub struct IcbView {
    pub viewer: DomainRole,
}

#[Object]
impl IcbView {
    /// asOf: business time (what was true then); knownAt: system time (what the system knew then).
    async fn summary(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime<Utc>>,
        known_at: Option<DateTime<Utc>>,
    ) -> ApiResult<ComplianceSummary> {
        summary_at(ctx, as_of, known_at).await
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
        let filter = CaseFilter {
            statuses: status_names(status),
            place,
            ..CaseFilter::default()
        };
        page(ctx, self.viewer, filter, first, after).await
    }

    /// DHU reports on practices that had no open case, for triage: in `status` (NEW by default),
    /// oldest first, at most 500.
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn dhu_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(vec![DhuReportStatus::New])")] status: Option<Vec<DhuReportStatus>>,
    ) -> ApiResult<Vec<DhuReport>> {
        dhu_reports(state(ctx).store.pool(), status, MAX_LIST, self.viewer).await
    }

    /// The state at the end of each day (UTC) from `from` to `to`, every `everyDays` days (1 to
    /// 366): at most 1,000 points, between 2000-01-01 and ten years from today.
    #[graphql(complexity = 50)]
    async fn trend(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        #[graphql(default = 7)] every_days: Option<i32>,
    ) -> ApiResult<Vec<TrendPoint>> {
        let every_days = trend_range(from.0, to.0, every_days.unwrap_or(7), Utc::now().date_naive()).gql()?;
        let app = state(ctx);
        let points = app
            .timeline_cache
            .trend(&app.store, from.0, to.0, every_days)
            .await
            .gql()?;
        Ok(points.as_ref().clone())
    }
}

/// LMC oversight: support, not sanctions; contract review as a count only.
#[derive(Debug)]
pub struct LmcView {
    pub viewer: DomainRole,
}

#[Object]
impl LmcView {
    async fn summary(&self, ctx: &Context<'_>, as_of: Option<DateTime<Utc>>) -> ApiResult<ComplianceSummary> {
        summary_at(ctx, as_of, None).await
    }

    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<CaseStatus>>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<CaseConnection> {
        page(
            ctx,
            self.viewer,
            CaseFilter {
                statuses: status_names(status),
                ..CaseFilter::default()
            },
            first,
            after,
        )
        .await
    }

    /// How many cases went to contract review (count only).
    async fn contract_reviews(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let count = sqlx::query_scalar!(r#"select count(*) as "count!" from case_view where escalated_at is not null"#)
            .fetch_one(state(ctx).store.pool())
            .await
            .map_err(ApiError::from)
            .gql()?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }
}

/// DHU liaison: what awaits its check.
#[derive(Debug)]
pub struct DhuView {
    pub viewer: DomainRole,
}

#[Object]
impl DhuView {
    /// REMAPPED, with no open issue and no shortfall since the last remap (at most 500, oldest
    /// first).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn awaiting_confirmation(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let rows = sqlx::query_as!(
            CaseData,
            "select * from case_view
              where status = 'REMAPPED' and not open_dhu_issue
                and (dhu_check_visible is null or dhu_check_visible >= dhu_check_required)
              order by created_at, case_id limit $1",
            MAX_LIST
        )
        .fetch_all(state(ctx).store.pool())
        .await
        .map_err(ApiError::from)
        .gql()?;
        Ok(rows
            .into_iter()
            .map(|data| CaseNode {
                data,
                viewer: self.viewer,
            })
            .collect())
    }

    /// Open cases where the DHU has reported an issue (at most 500, oldest first).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn open_issues(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let rows = sqlx::query_as!(
            CaseData,
            "select * from case_view where open_dhu_issue and status not in ('COMPLIANT', 'CLOSED')
              order by created_at, case_id limit $1",
            MAX_LIST
        )
        .fetch_all(state(ctx).store.pool())
        .await
        .map_err(ApiError::from)
        .gql()?;
        Ok(rows
            .into_iter()
            .map(|data| CaseNode {
                data,
                viewer: self.viewer,
            })
            .collect())
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
            self.viewer,
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
        dhu_reports(state(ctx).store.pool(), status, MAX_LIST, self.viewer).await
    }
}

/// A Digital Champion's caseload.
#[derive(Debug)]
pub struct ChampionView {
    pub viewer: DomainRole,
    pub champion_id: String,
}

#[Object]
impl ChampionView {
    /// The caller's cases (at most 500).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn my_cases(&self, ctx: &Context<'_>, status: Option<Vec<CaseStatus>>) -> ApiResult<Vec<CaseNode>> {
        let filter = CaseFilter {
            statuses: status_names(status),
            assigned_to: Some(self.champion_id.clone()),
            ..CaseFilter::default()
        };
        let connection = page(ctx, self.viewer, filter, Some(MAX_PAGE), None).await?;
        Ok(connection.edges.into_iter().map(|e| e.node).collect())
    }

    /// Open cases nobody has taken (at most 500, oldest first).
    #[graphql(complexity = "1 + LIST_COST * child_complexity")]
    async fn unassigned(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        let rows = sqlx::query_as!(
            CaseData,
            "select * from case_view where assigned_to is null and status not in ('COMPLIANT', 'CLOSED')
              order by created_at, case_id limit $1",
            MAX_LIST
        )
        .fetch_all(state(ctx).store.pool())
        .await
        .map_err(ApiError::from)
        .gql()?;
        Ok(rows
            .into_iter()
            .map(|data| CaseNode {
                data,
                viewer: self.viewer,
            })
            .collect())
    }
}

/// The step of a trend from `from` to `to` every `every_days` days, or why it is refused: a
/// trend is at most 1,000 points, from 2000-01-01 to ten years after `today`.
fn trend_range(from: NaiveDate, to: NaiveDate, every_days: i32, today: NaiveDate) -> Result<i64, ApiError> {
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
    let every_days = i64::from(every_days);
    let points = (to - from).num_days() / every_days + 1;
    if points > MAX_POINTS {
        return Err(ApiError::bad_input(
            "everyDays",
            format!("{points} points asked for; at most {MAX_POINTS}: ask for a shorter range or fewer points"),
        ));
    }
    Ok(every_days)
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
