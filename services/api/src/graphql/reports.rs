//! DHU reports on practices, as the read model holds them, with the fields each party's lens
//! allows: the DHU's detail for the ICB, champions and the DHU; the ICB's reason for dismissing
//! one for the ICB alone.

use async_graphql::{ID, SimpleObject};
use caseledger_eventstore::EventStore;
use caseledger_projections::dhu_report_view::{self, ReportRow, ReportStatus};
use caseledger_projections::lens::{Reader, shows_field};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AppState;
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
    /// When its personal data (the DHU's detail, the ICB's reason) was erased on its own.
    pub personal_data_erased_at: Option<DateTime<Utc>>,
}

/// Stored text as shown: text, or the placeholder of a sealed value left unopened.
pub(super) fn text(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Null => None,
        _ => Some(caseledger_cases::case::SEALED_TEXT.to_string()),
    }
}

fn report(row: ReportRow, viewer: Reader) -> DhuReport {
    DhuReport {
        id: ID(row.report_id.to_string()),
        practice: ReportedPractice {
            ods_code: row.ods_code,
            name: row.practice_name,
        },
        category: row.category.into(),
        detail: text(row.detail).filter(|_| shows_field(viewer, "DhuReportFiled", "detail")),
        reported_at: row.reported_at,
        status: row.status.into(),
        case_id: row.case_id.map(|id| ID(id.to_string())),
        dismissed_reason: text(row.dismissed_reason).filter(|_| shows_field(viewer, "DhuReportTriaged", "reason")),
        triaged_at: row.triaged_at,
        personal_data_erased_at: row.personal_data_erased_at,
    }
}

/// `rows` as `viewer` may see them, their sealed text opened (or erased) in one batch.
async fn shown(store: &EventStore, mut rows: Vec<ReportRow>, viewer: Reader) -> ApiResult<Vec<DhuReport>> {
    caseledger_projections::words::open_for(store, viewer, &mut rows)
        .await
        .map_err(ApiError::internal)
        .gql()?;
    Ok(rows.into_iter().map(|row| report(row, viewer)).collect())
}

/// One report, as `viewer` may see it.
pub async fn dhu_report(
    ctx: &async_graphql::Context<'_>,
    report_id: Uuid,
    viewer: impl Into<Reader>,
) -> ApiResult<Option<DhuReport>> {
    let app = super::state(ctx);
    let row = dhu_report_view::by_id(app.reads.pool(), report_id)
        .await
        .map_err(ApiError::from)
        .gql()?;
    Ok(shown(&app.store, row.into_iter().collect(), viewer.into()).await?.pop())
}

/// The reports in `statuses` (all when `None`), oldest first, at most `limit`.
pub async fn dhu_reports(
    app: &AppState,
    statuses: Option<Vec<DhuReportStatus>>,
    limit: i64,
    viewer: impl Into<Reader>,
) -> ApiResult<Vec<DhuReport>> {
    let statuses: Option<Vec<ReportStatus>> = statuses.map(|s| s.into_iter().map(Into::into).collect());
    let rows = dhu_report_view::list(app.reads.pool(), statuses.as_deref(), limit)
        .await
        .map_err(ApiError::from)
        .gql()?;
    shown(&app.store, rows, viewer.into()).await
}

/// The reports on one practice (at most 500, oldest first), as `viewer` may see them.
pub async fn dhu_reports_of(app: &AppState, ods_code: &str, viewer: impl Into<Reader>) -> ApiResult<Vec<DhuReport>> {
    let rows = dhu_report_view::for_practice(app.reads.pool(), ods_code, 500)
        .await
        .map_err(ApiError::from)
        .gql()?;
    shown(&app.store, rows, viewer.into()).await
}
