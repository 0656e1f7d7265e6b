//! What the views ask of `case_view`: a page of cases under a filter, a case, a practice's case,
//! the DHU's lists and the champions' pool. Rows come back whole and typed ([`CaseRow`]); "open"
//! is the domain's [`CaseStatus::is_open`], handed to the database, never written out in SQL.

use caseledger_cases::CaseStatus;
use caseledger_cases::deadlines::StageDates;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::CaseRow;

/// Which cases a list holds. Every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// In one of these statuses.
    pub statuses: Option<Vec<CaseStatus>>,
    /// Open (`Some(true)`) or not (`Some(false)`).
    pub open: Option<bool>,
    pub place: Option<String>,
    pub pcn_code: Option<String>,
    pub ods_code: Option<String>,
    pub assigned_to: Option<String>,
    /// Nobody has taken it.
    pub unassigned: bool,
    /// The DHU's confirmation at or above the requirement stands.
    pub dhu_confirmed: bool,
}

/// Where a page starts: after this case, in the lists' order (creation time, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub case_id: Uuid,
}

impl Cursor {
    pub fn of(row: &CaseRow) -> Self {
        Self {
            created_at: row.created_at,
            case_id: row.case_id,
        }
    }

    /// The cursor's text form, as `Display` writes it; `None` if it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('_')?;
        Some(Self {
            created_at: micros.parse().ok().and_then(DateTime::from_timestamp_micros)?,
            case_id: Uuid::parse_str(id).ok()?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.created_at.timestamp_micros(), self.case_id)
    }
}

/// One page of a list, and how long the whole list is.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<CaseRow>,
    pub has_next_page: bool,
    pub total: i64,
}

/// The statuses that count as open, as the database holds them.
pub fn open_statuses() -> Vec<&'static str> {
    CaseStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(CaseStatus::as_str)
        .collect()
}

fn status_names(statuses: &Option<Vec<CaseStatus>>) -> Option<Vec<&'static str>> {
    statuses.as_ref().map(|s| s.iter().map(|s| s.as_str()).collect())
}

fn decode(rows: Vec<super::StoredRow>) -> Result<Vec<CaseRow>, sqlx::Error> {
    rows.into_iter().map(CaseRow::try_from).collect()
}

/// Up to `first` cases under `filter` after `after`, oldest first, and how many there are.
pub async fn page(pool: &PgPool, filter: &CaseFilter, after: Option<Cursor>, first: i64) -> Result<Page, sqlx::Error> {
    let mut rows = rows(pool, filter, after, first.saturating_add(1)).await?;
    let total = count(pool, filter).await?;
    let has_next_page = rows.len() > usize::try_from(first).unwrap_or_default();
    rows.truncate(usize::try_from(first).unwrap_or_default());
    Ok(Page {
        rows,
        has_next_page,
        total,
    })
}

/// The conditions of a [`CaseFilter`], its values bound as `$1` to `$9` by [`bind_filter`].
const FILTER: &str = "($1::text[] is null or status = any($1))
      and ($2::bool is null or (status = any($3)) = $2)
      and ($4::text is null or place = $4)
      and ($5::text is null or pcn_code = $5)
      and ($6::text is null or ods_code = $6)
      and ($7::text is null or assigned_to = $7)
      and (not $8 or assigned_to is null)
      and (not $9 or dhu_confirmed_at is not null)";

/// `query` with `filter`'s values bound as [`FILTER`] reads them.
fn bind_filter<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    filter: &'q CaseFilter,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    query
        .bind(status_names(&filter.statuses))
        .bind(filter.open)
        .bind(open_statuses())
        .bind(filter.place.as_deref())
        .bind(filter.pcn_code.as_deref())
        .bind(filter.ods_code.as_deref())
        .bind(filter.assigned_to.as_deref())
        .bind(filter.unassigned)
        .bind(filter.dhu_confirmed)
}

/// Up to `limit` cases under `filter` after `after`, oldest first.
async fn rows(
    pool: &PgPool,
    filter: &CaseFilter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    let sql = format!(
        "select c.* from case_view c where {FILTER}
            and ($10::timestamptz is null or (created_at, case_id) > ($10, $11::uuid))
          order by created_at, case_id limit $12"
    );
    let rows: Vec<super::StoredRow> = bind_filter(sqlx::query_as(&sql), filter)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.case_id))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    decode(rows)
}

/// How many cases `filter` holds.
pub async fn count(pool: &PgPool, filter: &CaseFilter) -> Result<i64, sqlx::Error> {
    let sql = format!("select count(*) from case_view where {FILTER}");
    let (count,): (i64,) = bind_filter(sqlx::query_as(&sql), filter).fetch_one(pool).await?;
    Ok(count)
}

/// The id and stage dates of up to `limit` cases under `filter`, oldest first: the few columns a
/// deadline needs, for lists that pick a few cases out of many by their deadlines.
pub async fn stages(pool: &PgPool, filter: &CaseFilter, limit: i64) -> Result<Vec<(Uuid, StageDates)>, sqlx::Error> {
    let sql = format!(
        "select case_id, status, opened_at, last_remap_at, dhu_confirmed_at, open_dhu_issue, last_activity_dhu,
                dhu_check_visible, dhu_check_required, dhu_check_at
           from case_view where {FILTER}
          order by created_at, case_id limit $10"
    );
    let rows: Vec<super::StageColumns> = bind_filter(sqlx::query_as(&sql), filter)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(super::StageColumns::decode).collect()
}

/// The cases of `ids` that `filter` still selects, in the order of `ids`: the second read of a
/// list picked by [`stages`] applies the filter again, so a case that left it in between (closed,
/// or given to someone else) is not shown under it.
pub async fn by_ids(pool: &PgPool, filter: &CaseFilter, ids: &[Uuid]) -> Result<Vec<CaseRow>, sqlx::Error> {
    let sql = format!("select c.* from case_view c where case_id = any($10) and {FILTER}");
    let rows: Vec<super::StoredRow> = bind_filter(sqlx::query_as(&sql), filter)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    let mut found: std::collections::HashMap<Uuid, CaseRow> =
        decode(rows)?.into_iter().map(|row| (row.case_id, row)).collect();
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Up to `limit` cases under `filter`, oldest first.
pub async fn list(pool: &PgPool, filter: &CaseFilter, limit: i64) -> Result<Vec<CaseRow>, sqlx::Error> {
    rows(pool, filter, None, limit).await
}

/// One case.
pub async fn by_id(pool: &PgPool, case_id: Uuid) -> Result<Option<CaseRow>, sqlx::Error> {
    let row = sqlx::query_as!(
        super::StoredRow,
        r#"select c.* from case_view c where case_id = $1"#,
        case_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(decode(row.into_iter().collect())?.pop())
}

/// The practice's open case, else its most recent.
pub async fn by_practice(pool: &PgPool, ods_code: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    let open = open_statuses();
    let row = sqlx::query_as!(
        super::StoredRow,
        r#"select c.* from case_view c where ods_code = $1
            order by (status = any($2)) desc, created_at desc limit 1"#,
        ods_code,
        &open as &[&str]
    )
    .fetch_optional(pool)
    .await?;
    Ok(decode(row.into_iter().collect())?.pop())
}

/// What awaits the DHU's check: REMAPPED, with no open issue and no shortfall since the last
/// remap; oldest first, at most `limit`.
pub async fn awaiting_dhu(pool: &PgPool, limit: i64) -> Result<Vec<CaseRow>, sqlx::Error> {
    let rows = sqlx::query_as!(
        super::StoredRow,
        r#"select c.* from case_view c
            where status = $1 and not open_dhu_issue
              and (dhu_check_visible is null or dhu_check_visible >= dhu_check_required)
            order by created_at, case_id limit $2"#,
        CaseStatus::Remapped.as_str(),
        limit
    )
    .fetch_all(pool)
    .await?;
    decode(rows)
}

/// Open cases where the DHU has reported an issue; oldest first, at most `limit`.
pub async fn open_dhu_issues(pool: &PgPool, limit: i64) -> Result<Vec<CaseRow>, sqlx::Error> {
    let rows = sqlx::query_as!(
        super::StoredRow,
        r#"select c.* from case_view c
            where open_dhu_issue and status = any($1)
            order by created_at, case_id limit $2"#,
        &open_statuses() as &[&str],
        limit
    )
    .fetch_all(pool)
    .await?;
    decode(rows)
}

/// Open cases whose latest DHU look (since the last remap) fell short of the requirement, oldest
/// look first: what the DHU reported as a shortfall, waiting for the champion.
pub async fn dhu_shortfalls(pool: &PgPool, limit: i64) -> Result<Vec<CaseRow>, sqlx::Error> {
    let rows = sqlx::query_as!(
        super::StoredRow,
        r#"select c.* from case_view c
            where status = any($1) and dhu_check_visible < dhu_check_required
            order by dhu_check_at, case_id limit $2"#,
        &open_statuses() as &[&str],
        limit
    )
    .fetch_all(pool)
    .await?;
    decode(rows)
}

/// How many cases have been to contract review.
pub async fn contract_reviews(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from case_view where escalated_at is not null"#)
        .fetch_one(pool)
        .await
}

/// The cases of one practice (`ods_code`) or of one PCN's practices (`pcn_code`), open ones
/// first, then the newest; at most `limit`. For a practice's and a clinical director's own view.
pub async fn of_organisation(
    pool: &PgPool,
    ods_code: Option<&str>,
    pcn_code: Option<&str>,
    limit: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    let open = open_statuses();
    let rows: Vec<super::StoredRow> = sqlx::query_as(
        "select c.* from case_view c
          where ($1::text is not null or $2::text is not null)
            and ($1::text is null or ods_code = $1)
            and ($2::text is null or pcn_code = $2)
          order by (status = any($3)) desc, opened_at desc, case_id
          limit $4",
    )
    .bind(ods_code)
    .bind(pcn_code)
    .bind(&open as &[&str])
    .bind(limit)
    .fetch_all(pool)
    .await?;
    decode(rows)
}
