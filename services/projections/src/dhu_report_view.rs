//! `dhu_report_view`: every DHU report on a practice with no open case, and its triage. A case
//! opened from a report marks it triaged as soon as the case exists (its `PracticeFlagged` names
//! the report), before the triage's own event arrives.

use crate::envelope_of;
use caseledger_cases::case::{CaseEvent, StreamName, TriageOutcome};
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use sqlx::PgConnection;

pub const NAME: &str = <DhuReportViewProjection as crate::declared::Registered>::NAME;

impl crate::declared::Registered for DhuReportViewProjection {
    const NAME: &'static str = "dhu_report_view";
    const TABLES: &'static [&'static str] = &["dhu_report_view"];
}

#[derive(Debug, Default)]
pub struct DhuReportViewProjection;

impl EventHandler for DhuReportViewProjection {
    fn reads(&self, event_type: &str) -> bool {
        matches!(
            event_type,
            "DhuReportFiled" | "DhuReportTriaged" | "DhuReportPersonalDataErased" | "PracticeFlagged"
        )
    }

    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        for event in events {
            if !self.reads(&event.event_type) {
                continue;
            }
            let envelope = envelope_of(event)?;
            let at = envelope.occurred_at;
            let by = envelope.actor.id.to_string();
            match (&envelope.event, StreamName::parse(&event.stream_id)) {
                (CaseEvent::DhuReportFiled(filed), Some(StreamName::Practice(ods_code))) => {
                    let category = crate::case_view::name_of(&filed.category);
                    sqlx::query!(
                        "insert into dhu_report_view
                             (report_id, ods_code, category, detail, filed_event, reported_at, reported_by, status)
                         values ($1, $2, $3, $4, $5, $6, $7, 'new')
                         on conflict (report_id) do nothing",
                        filed.report_id,
                        ods_code.as_str(),
                        category,
                        stored(event, "detail"),
                        event.event_id,
                        at,
                        by,
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                (CaseEvent::DhuReportTriaged(triaged), _) => {
                    let status = match triaged.outcome {
                        TriageOutcome::CaseOpened => "case_opened",
                        TriageOutcome::Dismissed => "dismissed",
                    };
                    sqlx::query!(
                        "update dhu_report_view
                            set status = $2, case_id = coalesce($3, case_id), dismissed_reason = $4,
                                triaged_event = $5, triaged_at = $6, triaged_by = $7
                          where report_id = $1",
                        triaged.report_id,
                        status,
                        triaged.case_id,
                        stored(event, "reason"),
                        event.event_id,
                        at,
                        by,
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                (CaseEvent::DhuReportPersonalDataErased(erased), _) => {
                    sqlx::query!(
                        "update dhu_report_view set personal_data_erased_at = $2 where report_id = $1",
                        erased.report_id,
                        at,
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                (CaseEvent::PracticeFlagged(flagged), Some(StreamName::Case(case_id))) => {
                    if let Some(report_id) = flagged.source.report_id {
                        sqlx::query!(
                            "update dhu_report_view
                                set status = 'case_opened', case_id = $2, triaged_at = $3, triaged_by = $4
                              where report_id = $1 and status = 'new'",
                            report_id,
                            case_id,
                            at,
                            by,
                        )
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Field `field` of `event` as stored: sealed personal text stays sealed in the view, opened only
/// when shown (and so erased with its key).
pub(crate) fn stored(event: &RecordedEvent, field: &str) -> Option<serde_json::Value> {
    let data: serde_json::Value = serde_json::from_str(event.data.get()).ok()?;
    data.get(field).filter(|value| !value.is_null()).cloned()
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Waiting for the ICB's triage.
    New,
    /// The ICB opened a case from it.
    CaseOpened,
    /// The ICB dismissed it.
    Dismissed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::New => "new",
            ReportStatus::CaseOpened => "case_opened",
            ReportStatus::Dismissed => "dismissed",
        }
    }
}

/// A `dhu_report_view` row, with the practice's name from its latest dashboard row.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReportRow {
    pub report_id: uuid::Uuid,
    pub ods_code: String,
    pub practice_name: Option<String>,
    pub category: caseledger_cases::case::RootCause,
    /// As stored: text, or sealed (open it with the filing event's id).
    pub detail: Option<serde_json::Value>,
    pub filed_event: Option<uuid::Uuid>,
    pub reported_at: chrono::DateTime<chrono::Utc>,
    pub status: ReportStatus,
    pub case_id: Option<uuid::Uuid>,
    /// As stored, like `detail` (open it with the triage event's id).
    pub dismissed_reason: Option<serde_json::Value>,
    pub triaged_event: Option<uuid::Uuid>,
    pub triaged_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When its personal data was erased on its own (not with a case).
    #[serde(default)]
    pub personal_data_erased_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn decode(rows: Vec<serde_json::Value>) -> Result<Vec<ReportRow>, sqlx::Error> {
    crate::decode_rows(rows)
}

/// One report.
pub async fn by_id(pool: &sqlx::PgPool, report_id: uuid::Uuid) -> Result<Option<ReportRow>, sqlx::Error> {
    let row = sqlx::query_scalar!(
        r#"select to_jsonb(r) || jsonb_build_object('practice_name', p.name) as "row!"
             from dhu_report_view r left join practice_view p on p.ods_code = r.ods_code
            where r.report_id = $1"#,
        report_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(decode(row.into_iter().collect())?.pop())
}

/// The reports in `statuses` (all when `None`), oldest first, at most `limit`.
pub async fn list(
    pool: &sqlx::PgPool,
    statuses: Option<&[ReportStatus]>,
    limit: i64,
) -> Result<Vec<ReportRow>, sqlx::Error> {
    let statuses: Option<Vec<&str>> = statuses.map(|s| s.iter().map(|s| s.as_str()).collect());
    let rows = sqlx::query_scalar!(
        r#"select to_jsonb(r) || jsonb_build_object('practice_name', p.name) as "row!"
             from dhu_report_view r left join practice_view p on p.ods_code = r.ods_code
            where ($1::text[] is null or r.status = any($1))
            order by r.reported_at, r.report_id
            limit $2"#,
        statuses.as_deref() as Option<&[&str]>,
        limit
    )
    .fetch_all(pool)
    .await?;
    decode(rows)
}

/// The reports on one practice, oldest first, at most `limit`.
pub async fn for_practice(pool: &sqlx::PgPool, ods_code: &str, limit: i64) -> Result<Vec<ReportRow>, sqlx::Error> {
    let rows = sqlx::query_scalar!(
        r#"select to_jsonb(r) || jsonb_build_object('practice_name', p.name) as "row!"
             from dhu_report_view r left join practice_view p on p.ods_code = r.ods_code
            where r.ods_code = $1
            order by r.reported_at, r.report_id
            limit $2"#,
        ods_code,
        limit
    )
    .fetch_all(pool)
    .await?;
    decode(rows)
}

/// Reports whose retention period has passed and whose personal data is still there, oldest
/// first, at most `limit`: (report id, practice). Dismissed before `cutoff`, or filed before it
/// and never triaged (a case opened from one erases it with the case).
pub async fn expired_with_personal_data(
    pool: &sqlx::PgPool,
    cutoff: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> Result<Vec<(uuid::Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select report_id, ods_code from dhu_report_view
          where personal_data_erased_at is null
            and ((status = 'dismissed' and triaged_at < $1) or (status = 'new' and reported_at < $1))
          order by coalesce(triaged_at, reported_at) limit $2",
        cutoff,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| (row.report_id, row.ods_code)).collect())
}

impl crate::words::SealedWords for ReportRow {
    fn sealed_words(&mut self) -> Vec<crate::words::Sealed<'_>> {
        use crate::words::Sealed;
        [
            Sealed::of("DhuReportFiled", "detail", self.filed_event, self.detail.as_mut()),
            Sealed::of(
                "DhuReportTriaged",
                "reason",
                self.triaged_event,
                self.dismissed_reason.as_mut(),
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}
