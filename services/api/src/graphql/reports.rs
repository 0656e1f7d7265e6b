//! DHU reports on practices, as the read model holds them, with the fields each party's lens
//! allows: the DHU's detail for the ICB, champions and the DHU; the ICB's reason for dismissing
//! one for the ICB alone.

use async_graphql::{ID, SimpleObject};
use caseledger_cases::Role as DomainRole;
use caseledger_projections::lens::shows_field;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::enums::{DhuReportStatus, RootCause};
use crate::error::{ApiError, ApiResult, IntoGraphql};

/// The practice a report is about.
#[derive(SimpleObject, Debug, Clone)]
pub struct ReportedPractice {
    pub ods_code: String,
    /// From the latest dashboard row, if the practice has one.
    pub name: Option<String>,
}

/// A DHU report on a practice that had no open case, and its triage.
#[derive(SimpleObject, Debug, Clone)]
pub struct DhuReport {
    pub id: ID,
    pub practice: ReportedPractice,
    pub category: RootCause,
    /// The DHU's words: for the ICB, champions and the DHU.
    pub detail: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub status: DhuReportStatus,
    /// The case opened from the report.
    pub case_id: Option<ID>,
    /// Why the ICB dismissed it: for the ICB alone.
    pub dismissed_reason: Option<String>,
    pub triaged_at: Option<DateTime<Utc>>,
}

struct Row {
    report_id: Uuid,
    ods_code: String,
    name: Option<String>,
    category: String,
    detail: Option<String>,
    reported_at: DateTime<Utc>,
    status: String,
    case_id: Option<Uuid>,
    dismissed_reason: Option<String>,
    triaged_at: Option<DateTime<Utc>>,
}

fn report(row: Row, viewer: DomainRole) -> ApiResult<DhuReport> {
    let malformed = |what: &str| {
        ApiError::internal(caseledger_eventstore::StoreError::Malformed(format!(
            "dhu_report_view {what}"
        )))
    };
    let category: caseledger_cases::case::RootCause = serde_json::from_value(row.category.clone().into())
        .map_err(|_| malformed(&row.category))
        .gql()?;
    Ok(DhuReport {
        id: ID(row.report_id.to_string()),
        practice: ReportedPractice {
            ods_code: row.ods_code,
            name: row.name,
        },
        category: category.into(),
        detail: row.detail.filter(|_| shows_field(viewer, "DhuReportFiled", "detail")),
        reported_at: row.reported_at,
        status: DhuReportStatus::parse(&row.status)
            .ok_or_else(|| malformed(&row.status))
            .gql()?,
        case_id: row.case_id.map(|id| ID(id.to_string())),
        dismissed_reason: row
            .dismissed_reason
            .filter(|_| shows_field(viewer, "DhuReportTriaged", "reason")),
        triaged_at: row.triaged_at,
    })
}

/// One report, as `viewer` may see it.
pub async fn dhu_report(
    ctx: &async_graphql::Context<'_>,
    report_id: Uuid,
    viewer: DomainRole,
) -> ApiResult<Option<DhuReport>> {
    let pool = super::state(ctx).store.pool();
    let row = sqlx::query_as!(
        Row,
        r#"select r.report_id, r.ods_code, p.name as "name?", r.category, r.detail, r.reported_at, r.status,
                  r.case_id, r.dismissed_reason, r.triaged_at
             from dhu_report_view r left join practice_view p on p.ods_code = r.ods_code
            where r.report_id = $1"#,
        report_id
    )
    .fetch_optional(pool)
    .await
    .map_err(ApiError::from)
    .gql()?;
    row.map(|row| report(row, viewer)).transpose()
}

/// The reports in `statuses` (all when `None`), oldest first, at most `limit`.
pub async fn dhu_reports(
    pool: &PgPool,
    statuses: Option<Vec<DhuReportStatus>>,
    limit: i64,
    viewer: DomainRole,
) -> ApiResult<Vec<DhuReport>> {
    let statuses: Option<Vec<String>> = statuses.map(|s| s.iter().map(|s| s.as_str().to_string()).collect());
    let rows = sqlx::query_as!(
        Row,
        r#"select r.report_id, r.ods_code, p.name as "name?", r.category, r.detail, r.reported_at, r.status,
                  r.case_id, r.dismissed_reason, r.triaged_at
             from dhu_report_view r left join practice_view p on p.ods_code = r.ods_code
            where ($1::text[] is null or r.status = any($1))
            order by r.reported_at, r.report_id
            limit $2"#,
        statuses.as_deref(),
        limit
    )
    .fetch_all(pool)
    .await
    .map_err(ApiError::from)
    .gql()?;
    rows.into_iter().map(|row| report(row, viewer)).collect()
}
