//! DHU reports on a practice that has no open case: the DHU files what it sees (a category from
//! the root-cause vocabulary, and detail), and the ICB triages each report once, by opening a case
//! from it or by dismissing it with a reason. Both live in the practice's stream.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::case::{
    CaseError, CaseEvent, DhuReportFiled, DhuReportTriaged, EventEnvelope, RootCause, Triage, TriageOutcome,
};
use crate::role::Actor;
use crate::values::FreeText;

/// What a party asks of a practice's reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportAction {
    File {
        report_id: Uuid,
        category: RootCause,
        detail: Option<FreeText>,
    },
    Triage {
        report_id: Uuid,
        outcome: Triage,
    },
    /// Erase the report's personal data (the DHU's detail, the ICB's reason), saying why.
    ErasePersonalData {
        report_id: Uuid,
        reason: FreeText,
    },
}

impl ReportAction {
    pub fn name(&self) -> &'static str {
        match self {
            ReportAction::File { .. } => "FileDhuReport",
            ReportAction::Triage { .. } => "TriageDhuReport",
            ReportAction::ErasePersonalData { .. } => "EraseReportPersonalData",
        }
    }

    /// The report it is about.
    pub fn report_id(&self) -> Uuid {
        match self {
            ReportAction::File { report_id, .. }
            | ReportAction::Triage { report_id, .. }
            | ReportAction::ErasePersonalData { report_id, .. } => *report_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCommand {
    pub actor: Actor,
    pub occurred_at: DateTime<Utc>,
    pub action: ReportAction,
}

/// One report and whether it has been triaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub report_id: Uuid,
    pub category: RootCause,
    pub filed_at: DateTime<Utc>,
    pub triage: Option<TriageOutcome>,
    /// When its personal data was last erased.
    pub erased_at: Option<DateTime<Utc>>,
}

/// A practice's stream as far as reports go, and its revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PracticeReports {
    pub reports: Vec<Report>,
    /// How many events of the practice's stream (observations too) have been applied.
    pub events: u64,
}

impl PracticeReports {
    pub fn revision(&self) -> Option<u64> {
        self.events.checked_sub(1)
    }

    pub fn report(&self, report_id: Uuid) -> Option<&Report> {
        self.reports.iter().find(|r| r.report_id == report_id)
    }
}

/// Folds one event of the practice's stream.
pub fn evolve_reports(mut state: PracticeReports, envelope: &EventEnvelope) -> PracticeReports {
    state.events += 1;
    match &envelope.event {
        CaseEvent::DhuReportFiled(filed) => state.reports.push(Report {
            report_id: filed.report_id,
            category: filed.category,
            filed_at: envelope.occurred_at,
            triage: None,
            erased_at: None,
        }),
        CaseEvent::DhuReportTriaged(triaged) => {
            if let Some(report) = state.reports.iter_mut().find(|r| r.report_id == triaged.report_id) {
                report.triage = Some(triaged.outcome);
            }
        }
        CaseEvent::DhuReportPersonalDataErased(erased) => {
            if let Some(report) = state.reports.iter_mut().find(|r| r.report_id == erased.report_id) {
                report.erased_at = Some(envelope.occurred_at);
            }
        }
        _ => {}
    }
    state
}

/// The events `command` causes on the practice's reports, or why it may not.
pub fn decide_report(
    state: &PracticeReports,
    command: &ReportCommand,
    now: DateTime<Utc>,
) -> Result<Vec<CaseEvent>, CaseError> {
    let rule = crate::case::command_rule(command.action.name()).ok_or(CaseError::Forbidden {
        role: command.actor.role,
        action: command.action.name(),
    })?;
    if !rule.permits(command.actor.role) {
        return Err(CaseError::Forbidden {
            role: command.actor.role,
            action: command.action.name(),
        });
    }
    if command.occurred_at > now {
        return Err(CaseError::OccurredInFuture {
            occurred_at: command.occurred_at,
        });
    }
    let earliest = crate::case::earliest_business_time();
    if command.occurred_at < earliest {
        return Err(CaseError::OccurredTooEarly {
            occurred_at: command.occurred_at,
            earliest,
        });
    }
    match &command.action {
        ReportAction::File {
            report_id,
            category,
            detail,
        } => Ok(vec![CaseEvent::DhuReportFiled(DhuReportFiled {
            report_id: *report_id,
            category: *category,
            detail: detail.clone(),
        })]),
        ReportAction::Triage { report_id, outcome } => {
            let report = state.report(*report_id).ok_or(CaseError::ReportNotFound(*report_id))?;
            if report.triage.is_some() {
                return Err(CaseError::ReportAlreadyTriaged);
            }
            if command.occurred_at < report.filed_at {
                return Err(CaseError::OccurredBeforeOpened {
                    occurred_at: command.occurred_at,
                    opened_at: report.filed_at,
                });
            }
            Ok(vec![CaseEvent::DhuReportTriaged(DhuReportTriaged::new(
                *report_id, outcome,
            ))])
        }
        ReportAction::ErasePersonalData { report_id, reason } => {
            let report = state.report(*report_id).ok_or(CaseError::ReportNotFound(*report_id))?;
            // A report a case was opened from is the case's: erased with it, by the case's erasure.
            if report.triage == Some(TriageOutcome::CaseOpened) {
                return Err(CaseError::ErasedWithItsCase(*report_id));
            }
            Ok(vec![CaseEvent::DhuReportPersonalDataErased(
                crate::case::DhuReportPersonalDataErased {
                    report_id: *report_id,
                    reason: reason.clone(),
                },
            )])
        }
    }
}
