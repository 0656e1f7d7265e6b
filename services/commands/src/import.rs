//! Importing a dashboard extract: every row becomes a `SlotsObserved` in its practice's stream
//! (deterministic id, so a re-import writes nothing), in transactions of many rows; then each
//! non-compliant practice without an open case gets a new case, and one whose latest case is
//! COMPLIANT has it reopened. An import never confirms compliance.

use caseledger_cases::case::{CaseEvent, FlagSource, FlagSourceKind, ReopenCause, encode_event};
use caseledger_cases::dashboard::{DashboardRow, ImportError, parse_dashboard};
use caseledger_cases::practice::SlotsObserved;
use caseledger_cases::practice::practice_stream;
use caseledger_cases::values::FreeText;
use caseledger_cases::{Action, Actor, Case, CaseError, Role};
use caseledger_eventstore::{ExpectedRevision, NewEvent, Position, StoreError, StreamAppend, append_batch};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::history::metadata;
use crate::registry::{RegisteredState, latest_cases};
use crate::{CommandContext, CommandError, Commands};

/// Rows per transaction: large enough to be quick, small enough to hold few locks at once.
const ROWS_PER_TRANSACTION: usize = 500;
/// Errors listed in a report; the rest are counted. Nobody reads 20,000 errors, and a report that
/// lists them all is megabytes long.
pub const LISTED_ERRORS: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub report_date: Option<NaiveDate>,
    pub rows: usize,
    /// Observations written now (a re-import writes none).
    pub observed: usize,
    pub flagged: usize,
    pub reopened: usize,
    /// The first [`LISTED_ERRORS`] errors; non-empty means nothing was applied.
    pub errors: Vec<ImportError>,
    /// How many errors there were in all.
    pub error_count: usize,
    /// Registered practices the extract has no row for ("no data this week"): the first
    /// [`LISTED_ERRORS`], by ODS code.
    pub missing: Vec<String>,
    pub missing_count: usize,
    /// The position of the last event the import wrote: wait for the views to pass it.
    #[serde(skip)]
    pub last_position: Option<Position>,
}

impl Commands {
    /// Imports `csv` as `actor` (ICB or admin). Events it causes are dated the report date at
    /// 00:00:00Z.
    #[tracing::instrument(name = "import", skip_all, fields(actor = %actor.id))]
    pub async fn import_dashboard(
        &self,
        actor: &Actor,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<ImportReport, CommandError> {
        if !matches!(actor.role, Role::Icb | Role::Admin) {
            return Err(CaseError::Forbidden {
                role: actor.role,
                action: "ImportDashboard",
            }
            .into());
        }
        let dashboard = match parse_dashboard(csv, now.date_naive()) {
            Ok(dashboard) => dashboard,
            Err(mut errors) => {
                let error_count = errors.len();
                errors.truncate(LISTED_ERRORS);
                return Ok(ImportReport {
                    errors,
                    error_count,
                    ..ImportReport::default()
                });
            }
        };
        let (mut changed, missing) = self.check_against_register(&dashboard.rows).await?;
        changed.extend(self.changed_rows(&dashboard.rows).await?);
        changed.sort_by_key(|e| e.line);
        if !changed.is_empty() {
            let error_count = changed.len();
            let mut errors = changed;
            errors.truncate(LISTED_ERRORS);
            return Ok(ImportReport {
                report_date: Some(dashboard.report_date),
                rows: dashboard.rows.len(),
                errors,
                error_count,
                ..ImportReport::default()
            });
        }
        let occurred_at = dashboard.report_date.and_time(chrono::NaiveTime::MIN).and_utc();
        let context = CommandContext::new(actor.clone()).at(occurred_at);
        let mut report = ImportReport {
            report_date: Some(dashboard.report_date),
            rows: dashboard.rows.len(),
            missing_count: missing.len(),
            missing: missing.into_iter().take(LISTED_ERRORS).collect(),
            ..ImportReport::default()
        };

        let correlation_id = Uuid::now_v7();
        let mut new_rows: Vec<&DashboardRow> = Vec::new();
        for chunk in dashboard.rows.chunks(ROWS_PER_TRANSACTION) {
            let (written, last) = self.observe(chunk, &context, occurred_at, correlation_id).await?;
            report.last_position = report.last_position.max(last);
            new_rows.extend(chunk.iter().zip(written).filter(|(_, new)| *new).map(|(row, _)| row));
        }
        report.observed = new_rows.len();

        // Only what this import newly observed can open or reopen a case: a re-import is a no-op.
        let non_compliant: Vec<&DashboardRow> = new_rows.into_iter().filter(|r| !r.observation.compliant()).collect();
        let codes: Vec<String> = non_compliant
            .iter()
            .map(|r| r.observation.practice.ods_code.to_string())
            .collect();
        let mut conn = self.store.pool().acquire().await?;
        let latest = latest_cases(&mut conn, &codes).await?;
        drop(conn);
        for row in non_compliant {
            let observed = &row.observation;
            let ods_code = observed.practice.ods_code.as_str();
            let key = format!("dashboard:{ods_code}:{}", dashboard.report_date);
            let mut context = context.clone().with_command_id(key);
            context.correlation_id = Some(correlation_id);
            match latest
                .iter()
                .find(|c| c.ods_code == ods_code)
                .map(|c| (c.case_id, c.state))
            {
                Some((_, RegisteredState::Open)) => {}
                Some((case_id, RegisteredState::Compliant)) => {
                    // An extract older than the compliance says nothing new about the practice.
                    let loaded = crate::history::load(&self.store, case_id, true).await?;
                    let case = &loaded.case;
                    if case
                        .compliant_at
                        .is_some_and(|compliant_at| compliant_at >= occurred_at)
                    {
                        continue;
                    }
                    let (cause, reason) = regression(case, observed);
                    let reason = FreeText::parse(&reason).map_err(|e| CaseError::InvalidValue {
                        field: "reason",
                        source: e,
                    })?;
                    let action = Action::ReopenCase {
                        reason,
                        visible_slots: Some(observed.visible_slots),
                        cause,
                        list_size: Some(observed.list_size),
                    };
                    match self.execute(case_id, &context, action, now).await {
                        Ok(outcome) if !outcome.duplicate => {
                            report.last_position = report.last_position.max(outcome.position);
                            report.reopened += 1;
                        }
                        Ok(_) => {}
                        // Reopened or superseded meanwhile by someone else: the practice is looked after.
                        Err(
                            CommandError::Rejected(CaseError::InvalidTransition { .. })
                            | CommandError::NotLatestCase { .. },
                        ) => {}
                        Err(e) => return Err(e),
                    }
                }
                None | Some((_, RegisteredState::Closed)) => {
                    let action = Action::FlagPractice {
                        practice: observed.practice.clone(),
                        list_size: observed.list_size,
                        visible_slots: observed.visible_slots,
                        source: FlagSource {
                            kind: FlagSourceKind::Dashboard,
                            report_date: Some(dashboard.report_date),
                            report_id: None,
                        },
                        reason: None,
                    };
                    match self.flag_practice(&context, action, now).await {
                        Ok(outcome) if !outcome.duplicate => {
                            report.last_position = report.last_position.max(outcome.position);
                            report.flagged += 1;
                        }
                        Ok(_) | Err(CommandError::PracticeHasOpenCase { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        tracing::info!(
            rows = report.rows,
            observed = report.observed,
            flagged = report.flagged,
            reopened = report.reopened,
            "imported"
        );
        Ok(report)
    }

    /// The rows whose practice already has an observation for the report date with other figures:
    /// a report date's figures are recorded once (a re-import of the same figures writes nothing),
    /// so such a file is refused whole, before anything is written.
    async fn changed_rows(&self, rows: &[DashboardRow]) -> Result<Vec<ImportError>, CommandError> {
        recorded_differently(
            &self.store,
            rows,
            |row| observation_id(row.observation.practice.ods_code.as_str(), row.observation.report_date),
            |row, before| match before {
                CaseEvent::SlotsObserved(before) if *before != row.observation => Some(ImportError {
                    line: row.line,
                    column: None,
                    message: format!(
                        "{} already has figures for {} ({} patients, {} slots a day visible to 111) that this row \
                         changes; a report date's figures are recorded once: send corrections in a later extract",
                        row.observation.practice.ods_code,
                        row.observation.report_date,
                        before.list_size.get(),
                        before.visible_slots.get(),
                    ),
                }),
                _ => None,
            },
        )
        .await
    }

    /// Appends the rows' observations in one transaction: for each row whether it was new, and
    /// the last position written.
    async fn observe(
        &self,
        rows: &[DashboardRow],
        context: &CommandContext,
        occurred_at: DateTime<Utc>,
        correlation_id: Uuid,
    ) -> Result<(Vec<bool>, Option<Position>), CommandError> {
        let metadata = metadata(context, occurred_at, correlation_id);
        let appends = rows
            .iter()
            .map(|row| {
                let observed = &row.observation;
                let (event_type, data) = encode_event(&CaseEvent::SlotsObserved(observed.clone()));
                let id = observation_id(observed.practice.ods_code.as_str(), observed.report_date);
                let event = NewEvent::new(id, event_type, &data, metadata.clone())
                    .map_err(|e| StoreError::Malformed(e.to_string()))?;
                Ok(StreamAppend {
                    stream: practice_stream(&observed.practice.ods_code),
                    expected: ExpectedRevision::Any,
                    events: vec![event],
                })
            })
            .collect::<Result<Vec<_>, CommandError>>()?;
        append_each(&self.store, &appends).await
    }
}

/// Why a COMPLIANT practice is short again: its list grew past a multiple of 3,000 while it
/// offers what it did (the requirement rose), or it offers fewer slots than before. Compared with
/// the observation before this one, or with what compliance was confirmed on.
fn regression(case: &Case, now: &SlotsObserved) -> (ReopenCause, String) {
    let before = case
        .observations
        .iter()
        .filter(|o| o.report_date < now.report_date)
        .max_by_key(|o| o.report_date);
    let (visible_before, required_before, list_before) = match before {
        Some(o) => (o.visible, o.required, o.list_size),
        None => (
            case.visible_slots.unwrap_or_default(),
            case.required_slots,
            case.list_size,
        ),
    };
    let visible = now.visible_slots.get();
    if visible >= visible_before && now.required_slots > required_before {
        (
            ReopenCause::ListSizeRise,
            format!(
                "list size rise: {list_before} to {} patients, {required_before} to {} slots a day required; {visible} visible",
                now.list_size.get(),
                now.required_slots
            ),
        )
    } else {
        (
            ReopenCause::VisibilityDrop,
            format!(
                "visibility drop: {visible} of {} slots a day required visible (was {visible_before})",
                now.required_slots
            ),
        )
    }
}

/// Appends each of `appends` in one transaction: for each whether it was new (not a repeat of
/// events appended before), and the last position written.
pub(crate) async fn append_each(
    store: &caseledger_eventstore::EventStore,
    appends: &[StreamAppend],
) -> Result<(Vec<bool>, Option<Position>), CommandError> {
    let mut tx = store.pool().begin().await?;
    let results = append_batch(&mut tx, appends).await?;
    tx.commit().await?;
    store.wake_subscribers();
    let last = results.iter().flat_map(|r| r.positions.last().copied()).max();
    Ok((results.iter().map(|r| !r.duplicate).collect(), last))
}

/// The rows whose event (by its deterministic id) was recorded before with other content, as
/// `differs` describes each: what a re-import would change, which the store refuses.
pub(crate) async fn recorded_differently<R>(
    store: &caseledger_eventstore::EventStore,
    rows: &[R],
    id_of: impl Fn(&R) -> Uuid,
    differs: impl Fn(&R, &CaseEvent) -> Option<ImportError>,
) -> Result<Vec<ImportError>, CommandError> {
    let mut changed = Vec::new();
    for chunk in rows.chunks(ROWS_PER_TRANSACTION) {
        let ids: Vec<Uuid> = chunk.iter().map(&id_of).collect();
        for event in store.find_events(&ids).await? {
            let Some(row) = ids.iter().position(|id| *id == event.event_id).map(|i| &chunk[i]) else {
                continue;
            };
            if let Ok(before) = caseledger_cases::case::decode_event(&event.event_type, event.data.get())
                && let Some(error) = differs(row, &before)
            {
                changed.push(error);
            }
        }
    }
    changed.sort_by_key(|e| e.line);
    Ok(changed)
}

/// The same practice and report date always give the same event id.
fn observation_id(ods_code: &str, report_date: NaiveDate) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d6f_6273_0001);
    Uuid::new_v5(&NAMESPACE, format!("{ods_code}/{report_date}").as_bytes())
}
