//! Importing a dashboard extract: every row becomes a `SlotsObserved` in its practice's stream
//! (deterministic id, so a re-import writes nothing); each non-compliant practice without an open
//! case gets a new case, and one whose latest case is COMPLIANT has it reopened; all of it in one
//! transaction, so an import that fails or times out leaves nothing behind. An import never
//! confirms compliance.

use caseledger_cases::case::{CaseEvent, FlagSource, FlagSourceKind, ReopenCause, encode_event};
use caseledger_cases::dashboard::{Dashboard, DashboardRow, ImportError, parse_dashboard};
use caseledger_cases::practice::SlotsObserved;
use caseledger_cases::practice::practice_stream;
use caseledger_cases::values::FreeText;
use caseledger_cases::{Action, Actor, Case, CaseError, Command, Role, decide};
use caseledger_eventstore::{ExpectedRevision, NewEvent, Position, StoreError, StreamAppend, append_batch};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::history::metadata;
use crate::registry::{RegisteredState, latest_cases};
use crate::{CommandContext, CommandError, Commands};

/// Ids looked up in one read.
const ROWS_PER_READ: usize = 500;
/// Times an import decides again after meeting a concurrent change of one of its practices.
const MAX_IMPORT_ATTEMPTS: u32 = 3;
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
    /// Imports `csv` as `actor` (ICB or admin), all of it in one transaction or nothing. Events
    /// it causes are dated the report date at 00:00:00Z.
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
        let bounds = self.imports.bounds(uk_today(now), self.imports.max_practices);
        let parsed = parse_off_the_workers(csv, move |csv| parse_dashboard(csv, &bounds)).await?;
        let dashboard = match parsed {
            Ok(dashboard) => dashboard,
            Err(errors) => return Ok(refused(errors, None, 0)),
        };
        let (mut changed, missing) = self.check_against_register(&dashboard.rows).await?;
        changed.extend(self.changed_rows(&dashboard.rows).await?);
        changed.sort_by_key(|e| e.line);
        if !changed.is_empty() {
            return Ok(refused(changed, Some(dashboard.report_date), dashboard.rows.len()));
        }
        // A practice flagged or reopened by someone else meanwhile makes the transaction fail
        // whole: decide again on what is there now.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.apply_dashboard(actor, &dashboard, &missing, now).await {
                Err(
                    CommandError::PracticeHasOpenCase { .. }
                    | CommandError::NotLatestCase { .. }
                    | CommandError::Store(StoreError::WrongExpectedVersion { .. }),
                ) if attempt < MAX_IMPORT_ATTEMPTS => {
                    tracing::debug!(attempt, "an import met a concurrent change; deciding again");
                }
                outcome => return outcome,
            }
        }
    }

    /// Writes a checked dashboard in one transaction: each new row's observation, a case for each
    /// non-compliant practice without an open one, a reopen for each whose latest case is
    /// COMPLIANT. Rows recorded before write nothing (a re-import is a no-op).
    async fn apply_dashboard(
        &self,
        actor: &Actor,
        dashboard: &Dashboard,
        missing: &[String],
        now: DateTime<Utc>,
    ) -> Result<ImportReport, CommandError> {
        let occurred_at = dashboard.report_date.and_time(chrono::NaiveTime::MIN).and_utc();
        let correlation_id = Uuid::now_v7();
        let mut context = CommandContext::new(actor.clone()).at(occurred_at);
        context.correlation_id = Some(correlation_id);
        let mut report = ImportReport {
            report_date: Some(dashboard.report_date),
            rows: dashboard.rows.len(),
            missing_count: missing.len(),
            missing: missing.iter().take(LISTED_ERRORS).cloned().collect(),
            ..ImportReport::default()
        };
        let ids: Vec<Uuid> = dashboard
            .rows
            .iter()
            .map(|row| observation_id(row.observation.practice.ods_code.as_str(), row.observation.report_date))
            .collect();
        let recorded = self.recorded(&ids).await?;
        // Only what this import newly observes can open or reopen a case.
        let new_rows: Vec<&DashboardRow> = dashboard
            .rows
            .iter()
            .zip(&ids)
            .filter(|(_, id)| !recorded.contains(id))
            .map(|(row, _)| row)
            .collect();
        report.observed = new_rows.len();
        let metadata = metadata(&context, occurred_at, correlation_id);
        let mut appends = new_rows
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

        let non_compliant: Vec<&DashboardRow> = new_rows.into_iter().filter(|r| !r.observation.compliant()).collect();
        let codes: Vec<String> = non_compliant
            .iter()
            .map(|r| r.observation.practice.ods_code.to_string())
            .collect();
        let mut conn = self.store.pool().acquire().await?;
        let latest = latest_cases(&mut conn, &codes).await?;
        drop(conn);
        let mut prepared = Vec::new();
        for row in non_compliant {
            let observed = &row.observation;
            let ods_code = observed.practice.ods_code.as_str();
            let mut context = context
                .clone()
                .with_command_id(format!("dashboard:{ods_code}:{}", dashboard.report_date));
            // The row's observation caused the flag or reopen.
            context.causation_id = Some(observation_id(ods_code, observed.report_date));
            let (case_id, loaded, action) = match latest
                .iter()
                .find(|c| c.ods_code == ods_code)
                .map(|c| (c.case_id, c.state))
            {
                Some((_, RegisteredState::Open)) => continue,
                Some((case_id, RegisteredState::Compliant)) => {
                    let loaded = crate::history::load(&self.store, case_id, true).await?;
                    // An extract older than the compliance says nothing new about the practice.
                    if loaded.case.compliant_at.is_some_and(|at| at >= occurred_at) {
                        continue;
                    }
                    let (cause, reason) = regression(&loaded.case, observed);
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
                    report.reopened += 1;
                    (case_id, loaded, action)
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
                    report.flagged += 1;
                    (Uuid::now_v7(), crate::Loaded::default(), action)
                }
            };
            let command = Command {
                actor: context.actor.clone(),
                occurred_at,
                action,
            };
            let events = decide(&loaded.case, &command, now)?;
            prepared.push(
                self.prepare(case_id, &loaded, &context, &events, occurred_at, correlation_id)
                    .await?,
            );
        }
        appends.extend(prepared.iter().map(|p| p.append.clone()));
        report.last_position = self.write_together(&appends, &prepared).await?;
        tracing::info!(
            rows = report.rows,
            observed = report.observed,
            flagged = report.flagged,
            reopened = report.reopened,
            "imported"
        );
        Ok(report)
    }

    /// Which of `ids` are events recorded already.
    pub(crate) async fn recorded(&self, ids: &[Uuid]) -> Result<std::collections::HashSet<Uuid>, CommandError> {
        let mut recorded = std::collections::HashSet::new();
        for chunk in ids.chunks(ROWS_PER_READ) {
            recorded.extend(self.store.find_events(chunk).await?.into_iter().map(|e| e.event_id));
        }
        Ok(recorded)
    }

    /// Appends `appends` and writes what each of `prepared` brings besides, in one transaction:
    /// every stream's lock first, so the whole lands or none of it does. The last position.
    pub(crate) async fn write_together(
        &self,
        appends: &[StreamAppend],
        prepared: &[crate::handler::Prepared],
    ) -> Result<Option<Position>, CommandError> {
        if appends.is_empty() {
            return Ok(None);
        }
        let mut tx = self.store.pool().begin().await?;
        let results = append_batch(&mut tx, appends).await.map_err(too_many_locks)?;
        for command in prepared {
            command.written(&mut tx).await?;
        }
        tx.commit().await?;
        self.store.wake_subscribers();
        Ok(results.iter().flat_map(|r| r.positions.last().copied()).max())
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

/// The UK date at `now`: what "today" means to the people whose files these are.
pub(crate) fn uk_today(now: DateTime<Utc>) -> NaiveDate {
    caseledger_cases::ukclock::to_uk(now).date_naive()
}

/// A report that refuses the file: its first errors, and how many.
fn refused(mut errors: Vec<ImportError>, report_date: Option<NaiveDate>, rows: usize) -> ImportReport {
    let error_count = errors.len();
    errors.truncate(LISTED_ERRORS);
    ImportReport {
        report_date,
        rows,
        errors,
        error_count,
        ..ImportReport::default()
    }
}

/// Parses `csv` on the blocking pool, so a large file does not hold up the workers that answer
/// queries.
pub(crate) async fn parse_off_the_workers<T: Send + 'static>(
    csv: &str,
    parse: impl FnOnce(&str) -> T + Send + 'static,
) -> Result<T, CommandError> {
    // At most two files parsed at once on this instance, each holding its place until its parse
    // ends, even when the request that asked for it has gone.
    static PARSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let place = PARSING
        .acquire()
        .await
        .map_err(|e| CommandError::Store(StoreError::Malformed(format!("parsing the file: {e}"))))?;
    let csv = csv.to_string();
    let parsing = tokio::task::spawn_blocking(move || {
        let _place = place;
        parse(&csv)
    });
    parsing
        .await
        .map_err(|e| CommandError::Store(StoreError::Malformed(format!("parsing the file: {e}"))))
}

/// An import too large for the database's lock table says so, and what to change.
pub(crate) fn too_many_locks(error: StoreError) -> CommandError {
    match &error {
        StoreError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("53200") => {
            CommandError::Store(StoreError::Malformed(
                "the database ran out of lock slots for an import this large: raise PostgreSQL's \
                 max_locks_per_transaction (CaseLedger's own clusters use 512), or import a smaller file"
                    .into(),
            ))
        }
        _ => CommandError::Store(error),
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
    for chunk in rows.chunks(ROWS_PER_READ) {
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
