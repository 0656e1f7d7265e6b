//! `dhu_report_view`: every DHU report on a practice with no open case, and its triage. A case
//! opened from a report marks it triaged as soon as the case exists (its `PracticeFlagged` names
//! the report), before the triage's own event arrives.

use caseledger_cases::case::{CaseEvent, StreamName, TriageOutcome};
use caseledger_commands::envelope_of;
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use sqlx::PgConnection;

pub const NAME: &str = "dhu_report_view";

#[derive(Debug, Default)]
pub struct DhuReportViewProjection;

impl EventHandler for DhuReportViewProjection {
    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        for event in events {
            if !matches!(
                event.event_type.as_str(),
                "DhuReportFiled" | "DhuReportTriaged" | "PracticeFlagged"
            ) {
                continue;
            }
            let envelope = envelope_of(event)?;
            let at = envelope.occurred_at;
            let by = envelope.actor.id.to_string();
            match (&envelope.event, StreamName::parse(&event.stream_id)) {
                (CaseEvent::DhuReportFiled(filed), Some(StreamName::Practice(ods_code))) => {
                    let category = crate::case_view::name_of(&filed.category);
                    sqlx::query!(
                        "insert into dhu_report_view (report_id, ods_code, category, detail, reported_at, reported_by, status)
                         values ($1, $2, $3, $4, $5, $6, 'new')
                         on conflict (report_id) do nothing",
                        filed.report_id,
                        ods_code.as_str(),
                        category,
                        filed.detail.as_ref().map(|d| d.as_str()),
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
                                triaged_at = $5, triaged_by = $6
                          where report_id = $1",
                        triaged.report_id,
                        status,
                        triaged.case_id,
                        triaged.reason.as_ref().map(|r| r.as_str()),
                        at,
                        by,
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
