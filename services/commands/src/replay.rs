//! Replaying a recorded story from a folder shaped like the case study: weekly dashboard extracts
//! (`dashboard-week-NN.csv`, each imported at its report date) and `interventions.jsonl` (what
//! each party did, in time order), interleaved by business time, each line applied as the command
//! its `kind` names, as its `actor` in its `role`.

use std::path::{Path, PathBuf};

use caseledger_cases::case::{CaseEvent, ReopenCause, RootCause};
use caseledger_cases::values::{FreeText, OdsCode, ShortText};
use caseledger_cases::{Action, Actor, Role};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde::Serialize;

use crate::registry::latest_cases;
use crate::{CommandContext, CommandError, Commands};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// Practices registered from NHS England's files (`epraccur.csv`, `gp-reg-pat-prac-all.csv`,
    /// `epcncorepartnerdetails.csv`) and `practices.csv`, when the folder has them.
    pub registered: usize,
    pub imports: usize,
    pub commands: usize,
    pub observed: usize,
    pub flagged: usize,
    pub reopened: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} line {line}: {message}")]
    BadLine { file: String, line: usize, message: String },
    #[error("{file}: the extract was rejected: {errors}")]
    Rejected { file: String, errors: String },
    #[error("{file} line {line}: {source}")]
    Command {
        file: String,
        line: usize,
        #[source]
        source: CommandError,
    },
}

/// One line of `interventions.jsonl`.
#[derive(Debug, Deserialize)]
struct Intervention {
    at: DateTime<Utc>,
    role: String,
    actor: String,
    kind: String,
    ods_code: String,
    data: serde_json::Value,
}

enum Step {
    Import { file: String, csv: String },
    Intervention { line: usize, intervention: Intervention },
}

impl Commands {
    /// Replays `dir` as the parties: imports as `importer`, each intervention as its own actor.
    pub async fn replay_dir(
        &self,
        dir: &Path,
        importer: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ReplayReport, ReplayError> {
        let mut steps: Vec<(DateTime<Utc>, u8, Step)> = Vec::new();
        let mut extracts: Vec<PathBuf> = read_dir(dir)?
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("dashboard-") && n.ends_with(".csv"))
            })
            .collect();
        extracts.sort();
        for path in extracts {
            let csv = read(&path)?;
            let file = display_name(&path);
            let date = report_date(&csv).ok_or_else(|| ReplayError::BadLine {
                file: file.clone(),
                line: 2,
                message: "no report_date in the first row".into(),
            })?;
            steps.push((
                date.and_time(chrono::NaiveTime::MIN).and_utc(),
                0,
                Step::Import { file, csv },
            ));
        }
        let interventions = dir.join("interventions.jsonl");
        if interventions.exists() {
            for (index, text) in read(&interventions)?
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let intervention: Intervention = serde_json::from_str(text).map_err(|e| ReplayError::BadLine {
                    file: "interventions.jsonl".into(),
                    line: index + 1,
                    message: e.to_string(),
                })?;
                steps.push((
                    intervention.at,
                    1,
                    Step::Intervention {
                        line: index + 1,
                        intervention,
                    },
                ));
            }
        }
        // Stable: lines keep their file order at equal times, and an extract comes first.
        steps.sort_by_key(|(at, order, _)| (*at, *order));

        let mut report = ReplayReport::default();
        // The practice register first, from the files NHS England publishes when the folder has
        // them, then its sites from `practices.csv`: the extracts are checked against it.
        for (name, file) in [
            ("epraccur.csv", crate::PublishedFile::Ods),
            ("gp-reg-pat-prac-all.csv", crate::PublishedFile::ListSizes),
            ("epcncorepartnerdetails.csv", crate::PublishedFile::Pcns),
        ] {
            let path = dir.join(name);
            if !path.exists() {
                continue;
            }
            let csv = read(&path)?;
            let loaded = self
                .import_published(importer, file, &csv, now)
                .await
                .map_err(|source| ReplayError::Command {
                    file: name.into(),
                    line: 0,
                    source,
                })?;
            if !loaded.errors.is_empty() {
                return Err(ReplayError::Rejected {
                    file: name.into(),
                    errors: loaded
                        .errors
                        .iter()
                        .map(|e| format!("line {}: {}", e.line, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
            report.registered += loaded.registered;
        }
        let register = dir.join("practices.csv");
        if register.exists() {
            let csv = read(&register)?;
            if csv
                .lines()
                .next()
                .is_some_and(|header| header.split(',').any(|c| c.trim() == "main_site"))
            {
                let registered =
                    self.import_register(importer, &csv, now)
                        .await
                        .map_err(|source| ReplayError::Command {
                            file: "practices.csv".into(),
                            line: 0,
                            source,
                        })?;
                if !registered.errors.is_empty() {
                    return Err(ReplayError::Rejected {
                        file: "practices.csv".into(),
                        errors: registered
                            .errors
                            .iter()
                            .map(|e| format!("line {}: {}", e.line, e.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    });
                }
                report.registered += registered.registered;
            }
        }
        for (_, _, step) in steps {
            match step {
                Step::Import { file, csv } => {
                    let imported =
                        self.import_dashboard(importer, &csv, now)
                            .await
                            .map_err(|source| ReplayError::Command {
                                file: file.clone(),
                                line: 0,
                                source,
                            })?;
                    if !imported.errors.is_empty() {
                        let errors = imported
                            .errors
                            .iter()
                            .map(|e| format!("line {}: {}", e.line, e.message))
                            .collect::<Vec<_>>();
                        return Err(ReplayError::Rejected {
                            file,
                            errors: errors.join("; "),
                        });
                    }
                    report.imports += 1;
                    report.observed += imported.observed;
                    report.flagged += imported.flagged;
                    report.reopened += imported.reopened;
                }
                Step::Intervention { line, intervention } => {
                    self.apply(&intervention, line, now).await?;
                    report.commands += 1;
                }
            }
        }
        Ok(report)
    }

    async fn apply(&self, line: &Intervention, number: usize, now: DateTime<Utc>) -> Result<(), ReplayError> {
        let bad = |message: String| ReplayError::BadLine {
            file: "interventions.jsonl".into(),
            line: number,
            message,
        };
        let role = Role::parse(&line.role).ok_or_else(|| bad(format!("unknown role {:?}", line.role)))?;
        let id = ShortText::parse(&line.actor).map_err(|e| bad(format!("actor: {e}")))?;
        let context = CommandContext::new(Actor::new(id, role)).at(line.at);
        let failed = |source| ReplayError::Command {
            file: "interventions.jsonl".into(),
            line: number,
            source,
        };
        if matches!(line.kind.as_str(), "DhuReportFiled" | "DhuReportTriaged") {
            let ods_code = OdsCode::parse(&line.ods_code).map_err(|e| bad(format!("ods_code: {e}")))?;
            let report: ReportLine =
                serde_json::from_value(line.data.clone()).map_err(|e| bad(format!("{}: {e}", line.kind)))?;
            return self
                .apply_report(&context, &ods_code, &line.kind, report, now)
                .await
                .map_err(|e| match e {
                    Ok(message) => bad(message),
                    Err(source) => failed(source),
                });
        }
        let action = action_of(&line.kind, &line.data).map_err(bad)?;
        let mut conn = self.store().pool().acquire().await.map_err(|e| ReplayError::Command {
            file: "interventions.jsonl".into(),
            line: number,
            source: e.into(),
        })?;
        let latest = latest_cases(&mut conn, &[line.ods_code.to_ascii_uppercase()])
            .await
            .map_err(|source| ReplayError::Command {
                file: "interventions.jsonl".into(),
                line: number,
                source,
            })?;
        drop(conn);
        let case_id = latest
            .first()
            .map(|c| c.case_id)
            .ok_or_else(|| bad(format!("no case for practice {}", line.ods_code)))?;
        self.execute(case_id, &context, action, now)
            .await
            .map(drop)
            .map_err(|source| ReplayError::Command {
                file: "interventions.jsonl".into(),
                line: number,
                source,
            })
    }
}

impl Commands {
    /// A DHU report line: filed (onto the open case, if there is one) or triaged. The error is a
    /// problem with the line, or a refused command.
    async fn apply_report(
        &self,
        context: &CommandContext,
        ods_code: &OdsCode,
        kind: &str,
        line: ReportLine,
        now: DateTime<Utc>,
    ) -> Result<(), Result<String, CommandError>> {
        if kind == "DhuReportFiled" {
            let category = line
                .category
                .ok_or_else(|| Ok("DhuReportFiled needs a category".to_string()))?;
            self.report_visibility(context, ods_code, category, line.detail, now)
                .await
                .map_err(Err)?;
            return Ok(());
        }
        let report_id = match line.report_id {
            Some(report_id) => report_id,
            None => self
                .oldest_untriaged_report(ods_code)
                .await
                .map_err(Err)?
                .ok_or_else(|| Ok(format!("practice {ods_code} has no report waiting for triage")))?,
        };
        match line.outcome {
            Some(TriageLine::Dismissed { reason }) => self
                .dismiss_dhu_report(context, ods_code, report_id, reason, now)
                .await
                .map(drop),
            Some(TriageLine::CaseOpened) => self
                .open_case_from_report(context, ods_code, report_id, now)
                .await
                .map(drop),
            None => return Err(Ok("DhuReportTriaged needs an outcome".into())),
        }
        .map_err(Err)
    }
}

/// The command that records an event of `kind` with `data` (the event's own data shape).
fn action_of(kind: &str, data: &serde_json::Value) -> Result<Action, String> {
    // Blank optional text in the recorded data means "not given".
    let mut data = data.clone();
    if let serde_json::Value::Object(fields) = &mut data {
        fields.retain(|_, v| v.as_str().is_none_or(|s| !s.trim().is_empty()));
    }
    let event: CaseEvent = serde_json::from_value(serde_json::json!({ "type": kind, "data": data }))
        .map_err(|e| format!("{kind}: {e}"))?;
    Ok(match event {
        CaseEvent::CaseAssigned(e) => Action::AssignCase {
            champion_id: e.champion_id,
        },
        CaseEvent::PracticeContacted(e) => Action::RecordContact {
            channel: e.channel,
            contact_name: e.contact_name,
            summary: e.summary,
        },
        CaseEvent::GuidanceShared(e) => Action::ShareGuidance {
            guide: e.guide,
            version: e.version,
        },
        CaseEvent::RootCauseIdentified(e) => Action::RecordRootCause {
            cause: e.cause,
            detail: e.detail,
        },
        CaseEvent::SlotsRemapped(e) => Action::RecordRemap {
            changes: e.changes,
            slots_per_day_configured: e.slots_per_day_configured,
        },
        CaseEvent::GpConnectReEnabled(e) => Action::RecordGpConnectReEnabled { reference: e.reference },
        CaseEvent::DhuVisibilityConfirmed(e) => Action::ConfirmDhuVisibility {
            visible_slots_per_day: e.visible_slots_per_day,
        },
        CaseEvent::DhuVisibilityIssueReported(e) => Action::ReportDhuVisibilityIssue {
            category: e.category,
            issue: e.issue,
            detail: e.detail,
        },
        CaseEvent::ComplianceConfirmed(e) => Action::ConfirmCompliance {
            visible_slots_per_day: e.visible_slots_per_day,
            evidence: e.evidence,
        },
        CaseEvent::CaseClosed(e) => Action::CloseCase { reason: e.reason },
        CaseEvent::CaseReopened(e) => Action::ReopenCase {
            reason: e.reason,
            visible_slots: e.visible_slots,
            cause: e.cause.unwrap_or(ReopenCause::Manual),
            list_size: e.list_size,
        },
        CaseEvent::NoteAdded(e) => Action::AddNote { text: e.text },
        CaseEvent::PersonalDataErased(e) => Action::ErasePersonalData { reason: e.reason },
        CaseEvent::EscalatedToContractReview(e) => Action::EscalateToContractReview { reason: e.reason },
        CaseEvent::ContractReviewConcluded(e) => Action::ConcludeContractReview {
            outcome: e.outcome,
            note: e.note,
        },
        CaseEvent::PracticeFlagged(_) | CaseEvent::SlotsObserved(_) => {
            return Err(format!(
                "{kind} comes from the dashboard extracts, not from interventions"
            ));
        }
        CaseEvent::DhuReportFiled(_)
        | CaseEvent::DhuReportTriaged(_)
        | CaseEvent::DhuReportPersonalDataErased(_)
        | CaseEvent::PracticeRegistered(_)
        | CaseEvent::PracticeDetailsChanged(_)
        | CaseEvent::DhuSlotsObserved(_)
        | CaseEvent::SlotVisibilityVerified(_)
        | CaseEvent::SlotVisibilityCheckFailed(_)
        | CaseEvent::DiversionNotified(_)
        | CaseEvent::DiversionEnded(_)
        | CaseEvent::DiversionAcknowledged(_)
        | CaseEvent::DiversionReviewOpened(_)
        | CaseEvent::DiversionReviewSupported(_)
        | CaseEvent::DiversionReviewClosed(_)
        | CaseEvent::CoreHoursCallsReported(_)
        | CaseEvent::TelephonyMetricsReported(_)
        | CaseEvent::PcnReviewNoted(_)
        | CaseEvent::DosGapReported(_)
        | CaseEvent::DosGapTriaged(_)
        | CaseEvent::DosEntryUpdated(_)
        | CaseEvent::DosFixConfirmed(_)
        | CaseEvent::DosGapPersists(_)
        | CaseEvent::DiversionWordsErased(_)
        | CaseEvent::DosGapWordsErased(_)
        | CaseEvent::DiversionCancelled(_)
        | CaseEvent::PracticeAnswered(_)
        | CaseEvent::PcnReviewNoteErased(_) => {
            return Err(format!("{kind} is about a practice, not a case"));
        }
    })
}

/// A DHU report line: `DhuReportFiled` (`category`, `detail`), or `DhuReportTriaged` with
/// `outcome` `{"kind": "dismissed", "reason": …}` or `{"kind": "case_opened"}`, for the
/// practice's oldest untriaged report (or `report_id`, when the line names one).
#[derive(Debug, Deserialize)]
struct ReportLine {
    category: Option<RootCause>,
    detail: Option<FreeText>,
    report_id: Option<uuid::Uuid>,
    outcome: Option<TriageLine>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TriageLine {
    Dismissed { reason: FreeText },
    CaseOpened,
}

fn report_date(csv: &str) -> Option<NaiveDate> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next()?.split(',').map(str::trim).collect();
    let column = header.iter().position(|h| *h == "report_date")?;
    let first = lines.next()?;
    NaiveDate::parse_from_str(first.split(',').nth(column)?.trim(), "%Y-%m-%d").ok()
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, ReplayError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ReplayError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
}

fn read(path: &Path) -> Result<String, ReplayError> {
    std::fs::read_to_string(path).map_err(|source| ReplayError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}
