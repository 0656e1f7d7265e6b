//! Telephony metrics for PCN review: each practice's month of telephony, imported by the ICB for
//! the region or by a PCN's clinical director for its own practices, and the PCN's notes of what
//! it agreed, in the PCN's own stream, sealed under each note's key.

use caseledger_cases::case::{CaseEvent, CommandName};
use caseledger_cases::extract::ImportError;
use caseledger_cases::telephony::{TelephonyRow, decide_pcn_note, parse_telephony_metrics, pcn_stream};
use caseledger_cases::values::{FreeText, OdsCode, PcnCode};
use caseledger_cases::{Actor, Role};
use caseledger_eventstore::{ExpectedRevision, Position};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::history::metadata;
use crate::practices::{DhuExtractReport, PracticeRow, allowed};
use crate::reports::id_for;
use crate::scopes::pcn_note_scope;
use crate::{CommandContext, CommandError, Commands};

/// A note's id, derived from the command id when there is one.
const NOTE_NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d70_636e_0001);
/// A practice's month of telephony always has the same event id.
const METRICS_NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d74_656c_0001);

/// A PCN's note recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteOutcome {
    pub note_id: Uuid,
    /// The command had been applied before (same `commandId`): nothing was written now.
    pub duplicate: bool,
    pub position: Option<Position>,
}

impl Commands {
    /// Imports a month (or months) of practices' telephony (CSV: month, ods_code, inbound_calls,
    /// average_wait_seconds, abandonment_rate, average_call_seconds, callbacks). Checked whole; a
    /// re-import writes nothing; a practice's month is recorded once. A PCN's clinical director
    /// imports only their own PCN's practices.
    #[tracing::instrument(name = "import_telephony_metrics", skip_all, fields(actor = %actor.id))]
    pub async fn import_telephony_metrics(
        &self,
        actor: &Actor,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<DhuExtractReport, CommandError> {
        allowed(actor, CommandName::ImportTelephonyMetrics)?;
        let within = match actor.role {
            Role::PcnClinicalDirector => Some(
                actor
                    .pcn()
                    .ok_or_else(|| CommandError::from(caseledger_cases::CaseError::NotYourPcn("(none)".into())))?,
            ),
            _ => None,
        };
        let bounds = self
            .imports
            .bounds(crate::import::uk_today(now), self.imports.max_dhu_rows);
        let parsed =
            crate::import::parse_off_the_workers(csv, move |csv| parse_telephony_metrics(csv, &bounds)).await?;
        match parsed {
            Ok(rows) => self.import_practice_rows(actor, &rows, within).await,
            Err(errors) => Ok(DhuExtractReport::refused(errors, 0)),
        }
    }

    /// The PCN's clinical director records what the PCN agreed at its review of `month`.
    pub async fn record_pcn_review_note(
        &self,
        context: &CommandContext,
        pcn_code: &PcnCode,
        month: NaiveDate,
        note: FreeText,
        now: DateTime<Utc>,
    ) -> Result<NoteOutcome, CommandError> {
        allowed(&context.actor, CommandName::RecordPcnReviewNote)?;
        let note_id = id_for(context, NOTE_NAMESPACE);
        let today = crate::import::uk_today(now);
        let noted = decide_pcn_note(&context.actor, pcn_code, note_id, month, note, today)?;
        let metadata = metadata(context, now, context.correlation_id.unwrap_or_else(Uuid::now_v7));
        let events = self
            .sealed_events(
                context,
                &[CaseEvent::PcnReviewNoted(noted)],
                &pcn_note_scope(note_id),
                &metadata,
            )
            .await?;
        let result = self
            .store
            .append(&pcn_stream(pcn_code), ExpectedRevision::Any, &events)
            .await?;
        Ok(NoteOutcome {
            note_id,
            duplicate: result.duplicate,
            position: result.positions.last().copied(),
        })
    }
}

impl PracticeRow for TelephonyRow {
    fn line(&self) -> u64 {
        self.line
    }

    fn ods_code(&self) -> &OdsCode {
        &self.reported.ods_code
    }

    fn event_id(&self) -> Uuid {
        Uuid::new_v5(
            &METRICS_NAMESPACE,
            format!("{}/{}", self.reported.ods_code, self.reported.month).as_bytes(),
        )
    }

    fn event(&self) -> CaseEvent {
        CaseEvent::TelephonyMetricsReported(self.reported.clone())
    }

    fn day(&self) -> NaiveDate {
        self.reported.month
    }

    fn differs(&self, before: &CaseEvent) -> Option<ImportError> {
        match before {
            CaseEvent::TelephonyMetricsReported(before) if *before != self.reported => Some(ImportError::new(
                self.line,
                Some("inbound_calls"),
                format!(
                    "{} in {} was recorded before with other figures ({} inbound calls): a month is recorded once",
                    self.reported.ods_code,
                    self.reported.month.format("%Y-%m"),
                    before.inbound_calls
                ),
            )),
            _ => None,
        }
    }
}
