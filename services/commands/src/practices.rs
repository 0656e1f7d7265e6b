//! The practice register and the DHU's own extract. A register records `PracticeRegistered` for
//! a practice the first time and `PracticeDetailsChanged` when a later register differs (nothing
//! when it is the same), and keeps `practice_register` in the same transaction: once it holds a
//! practice, dashboard and DHU rows are checked against it (an unknown practice, or a PCN or place
//! that is not the register's, is an error naming the row). The DHU's extract records one
//! `DhuSlotsObserved` per row, idempotently, as a dashboard does. A GP Connect verification is
//! recorded in the practice's stream as what the search found.

use std::collections::HashMap;

use caseledger_cases::case::{CaseEvent, CommandName, encode_event};
use caseledger_cases::dashboard::{DashboardRow, ImportError};
use caseledger_cases::dhu_extract::{DhuRow, parse_dhu_extract};
use caseledger_cases::practice::{PracticeRegistration, SlotVerification, practice_stream};
use caseledger_cases::register::{RegisterRow, parse_register};
use caseledger_cases::{Actor, CaseError};
use caseledger_eventstore::{ExpectedRevision, NewEvent, Position, StoreError, StreamAppend, append_batch};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::history::metadata;
use crate::import::{LISTED_ERRORS, append_each, recorded_differently};
use crate::{CommandContext, CommandError, Commands};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegisterReport {
    pub rows: usize,
    /// Practices registered for the first time.
    pub registered: usize,
    /// Practices whose entry changed.
    pub changed: usize,
    /// Practices whose entry is as it was.
    pub unchanged: usize,
    /// The first [`LISTED_ERRORS`] errors; non-empty means nothing was applied.
    pub errors: Vec<ImportError>,
    pub error_count: usize,
    #[serde(skip)]
    pub last_position: Option<Position>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DhuExtractReport {
    pub rows: usize,
    /// Rows written now (a re-import writes none).
    pub observed: usize,
    pub errors: Vec<ImportError>,
    pub error_count: usize,
    #[serde(skip)]
    pub last_position: Option<Position>,
}

/// Errors as a report lists them: the first [`LISTED_ERRORS`], and how many in all.
impl DhuExtractReport {
    /// An extract refused whole: its first errors, and how many there were.
    pub(crate) fn refused(errors: Vec<ImportError>, rows: usize) -> Self {
        let (errors, error_count) = listed(errors);
        Self {
            rows,
            errors,
            error_count,
            ..Self::default()
        }
    }
}

pub(crate) fn listed(mut errors: Vec<ImportError>) -> (Vec<ImportError>, usize) {
    let count = errors.len();
    errors.truncate(LISTED_ERRORS);
    (errors, count)
}

/// Whether `actor` may issue `command` (by the catalogue).
pub(crate) fn allowed(actor: &Actor, command: caseledger_cases::case::CommandName) -> Result<(), CommandError> {
    if command.permits(actor.role) {
        Ok(())
    } else {
        Err(CaseError::Forbidden {
            role: actor.role,
            action: command.as_str(),
        }
        .into())
    }
}

fn event(
    event: &CaseEvent,
    context: &CommandContext,
    at: DateTime<Utc>,
    correlation_id: Uuid,
) -> Result<NewEvent, CommandError> {
    let (event_type, data) = encode_event(event);
    NewEvent::new(Uuid::now_v7(), event_type, &data, metadata(context, at, correlation_id))
        .map_err(|e| StoreError::Malformed(e.to_string()).into())
}

/// Register imports take turns: a transaction lock, held to the transaction's end.
pub(crate) async fn take_turns(tx: &mut PgConnection) -> Result<(), CommandError> {
    sqlx::query!("select pg_advisory_xact_lock(hashtext('caseledger practice_register'))")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The entries a register import records: the new ones (`PracticeRegistered`) and the changed
/// ones (`PracticeDetailsChanged`, the whole entry as it is now); the same ones are counted.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub registered: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// The entries written, and whether each is new.
    pub written: Vec<(PracticeRegistration, bool)>,
}

impl Changes {
    pub(crate) fn between(before: &HashMap<String, PracticeRegistration>, entries: &[PracticeRegistration]) -> Self {
        let mut changes = Self::default();
        for entry in entries {
            match before.get(entry.practice.ods_code.as_str()) {
                None => {
                    changes.registered += 1;
                    changes.written.push((entry.clone(), true));
                }
                Some(was) if was == entry => changes.unchanged += 1,
                Some(_) => {
                    changes.changed += 1;
                    changes.written.push((entry.clone(), false));
                }
            }
        }
        changes
    }

    /// An append to each practice's stream.
    pub(crate) fn appends(
        &self,
        context: &CommandContext,
        at: DateTime<Utc>,
        correlation_id: Uuid,
    ) -> Result<Vec<StreamAppend>, CommandError> {
        self.written
            .iter()
            .map(|(entry, new)| {
                let recorded = if *new {
                    CaseEvent::PracticeRegistered(entry.clone())
                } else {
                    CaseEvent::PracticeDetailsChanged(entry.clone())
                };
                Ok(StreamAppend {
                    stream: practice_stream(&entry.practice.ods_code),
                    expected: ExpectedRevision::Any,
                    events: vec![event(&recorded, context, at, correlation_id)?],
                })
            })
            .collect()
    }
}

/// The register's rows of `written`, in the transaction that recorded their events.
pub(crate) async fn keep_register(
    tx: &mut PgConnection,
    written: &[(PracticeRegistration, bool)],
) -> Result<(), CommandError> {
    let entries: Vec<&PracticeRegistration> = written.iter().map(|(entry, _)| entry).collect();
    let entries = serde_json::to_value(&entries).map_err(|e| StoreError::Malformed(e.to_string()))?;
    sqlx::query!(
        r#"insert into practice_register (ods_code, pcn_code, place, entry)
           select e->'practice'->>'ods_code', e->'practice'->>'pcn_code', e->'practice'->>'place', e
             from jsonb_array_elements($1) as e
           on conflict (ods_code) do update set
               pcn_code = excluded.pcn_code, place = excluded.place, entry = excluded.entry, updated_at = now()"#,
        entries
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The register's entries of `codes`, as last recorded. (Not `for update`: a row lock is a write,
/// and the events must be the transaction's first; register imports take turns instead.)
pub(crate) async fn entries(
    conn: &mut PgConnection,
    codes: &[String],
) -> Result<HashMap<String, PracticeRegistration>, CommandError> {
    let rows = sqlx::query!(
        "select ods_code, entry from practice_register where ods_code = any($1)",
        codes
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let entry = serde_json::from_value(row.entry).map_err(|e| StoreError::Malformed(e.to_string()))?;
            Ok((row.ods_code, entry))
        })
        .collect()
}

/// Whether a register has been imported at all.
async fn register_exists(commands: &Commands) -> Result<bool, CommandError> {
    Ok(
        sqlx::query_scalar!(r#"select exists (select 1 from practice_register) as "exists!""#)
            .fetch_one(commands.store.pool())
            .await?,
    )
}

/// The register's (PCN, place) of `codes`.
async fn places(commands: &Commands, codes: &[String]) -> Result<HashMap<String, (String, String)>, CommandError> {
    Ok(sqlx::query!(
        "select ods_code, pcn_code, place from practice_register where ods_code = any($1)",
        codes
    )
    .fetch_all(commands.store.pool())
    .await?
    .into_iter()
    .map(|row| (row.ods_code, (row.pcn_code, row.place)))
    .collect())
}

/// The PCN of each of `codes` CaseLedger knows: the register's, else the latest dashboard's.
async fn pcns_of(commands: &Commands, codes: &[String]) -> Result<HashMap<String, String>, CommandError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select c.ods_code, coalesce(r.pcn_code, v.pcn_code)
           from unnest($1::text[]) as c(ods_code)
           left join practice_register r on r.ods_code = c.ods_code
           left join practice_view v on v.ods_code = c.ods_code
          where coalesce(r.pcn_code, v.pcn_code) is not null",
    )
    .bind(codes)
    .fetch_all(commands.store.pool())
    .await?;
    Ok(rows.into_iter().collect())
}

impl Commands {
    /// Imports a practice register (CSV) as `actor` (ICB or admin): checked whole first.
    #[tracing::instrument(name = "import_register", skip_all, fields(actor = %actor.id))]
    pub async fn import_register(
        &self,
        actor: &Actor,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<RegisterReport, CommandError> {
        allowed(actor, CommandName::RegisterPractice)?;
        let max_rows = self.imports.max_practices;
        let parsed = crate::import::parse_off_the_workers(csv, move |csv| parse_register(csv, max_rows)).await?;
        let rows = match parsed {
            Ok(rows) => rows,
            Err(errors) => {
                let (errors, error_count) = listed(errors);
                return Ok(RegisterReport {
                    errors,
                    error_count,
                    ..RegisterReport::default()
                });
            }
        };
        // A PCN belongs to one place: the file's practices and the register's others agree.
        let codes: Vec<String> = rows.iter().map(|r| r.entry.practice.ods_code.to_string()).collect();
        let pcns: Vec<String> = rows.iter().map(|r| r.entry.practice.pcn_code.to_string()).collect();
        let elsewhere: HashMap<String, String> = sqlx::query!(
            "select distinct pcn_code, place from practice_register
              where pcn_code = any($1) and not (ods_code = any($2))",
            &pcns,
            &codes
        )
        .fetch_all(self.store.pool())
        .await?
        .into_iter()
        .map(|row| (row.pcn_code, row.place))
        .collect();
        let errors: Vec<ImportError> = rows
            .iter()
            .filter_map(|row| {
                let practice = &row.entry.practice;
                let place = elsewhere.get(practice.pcn_code.as_str())?;
                (place != practice.place.as_str()).then(|| {
                    ImportError::new(
                        row.line,
                        Some("place"),
                        format!(
                            "{} is in {place} in the register (practices not in this file), not {}: a PCN belongs to one place",
                            practice.pcn_code, practice.place
                        ),
                    )
                })
            })
            .collect();
        if !errors.is_empty() {
            let (errors, error_count) = listed(errors);
            return Ok(RegisterReport {
                rows: rows.len(),
                errors,
                error_count,
                ..RegisterReport::default()
            });
        }
        let mut report = RegisterReport {
            rows: rows.len(),
            ..RegisterReport::default()
        };
        let context = CommandContext::new(actor.clone()).at(now);
        let correlation_id = Uuid::now_v7();
        // The whole register in one transaction: all of it, or nothing.
        self.register(&rows, &context, now, correlation_id, &mut report).await?;
        tracing::info!(
            rows = report.rows,
            registered = report.registered,
            changed = report.changed,
            "register imported"
        );
        Ok(report)
    }

    /// The register in one transaction: the events of the entries that are new or changed, and
    /// the register's rows, together. Register imports take turns (a transaction lock), so two
    /// at once cannot both register a practice.
    async fn register(
        &self,
        chunk: &[RegisterRow],
        context: &CommandContext,
        now: DateTime<Utc>,
        correlation_id: Uuid,
        report: &mut RegisterReport,
    ) -> Result<(), CommandError> {
        let mut tx = self.store.pool().begin().await?;
        take_turns(&mut tx).await?;
        let codes: Vec<String> = chunk
            .iter()
            .map(|row| row.entry.practice.ods_code.to_string())
            .collect();
        let before = entries(&mut tx, &codes).await?;
        // What ODS publishes of a practice stays: the hand-built register gives its sites.
        let entries: Vec<PracticeRegistration> = chunk
            .iter()
            .map(|row| match before.get(row.entry.practice.ods_code.as_str()) {
                Some(was) => PracticeRegistration {
                    ods: was.ods.clone(),
                    list_size_date: was.list_size_date,
                    pcn_joined: was.pcn_joined,
                    ..row.entry.clone()
                },
                None => row.entry.clone(),
            })
            .collect();
        let changes = Changes::between(&before, &entries);
        report.registered += changes.registered;
        report.changed += changes.changed;
        report.unchanged += changes.unchanged;
        if changes.written.is_empty() {
            return Ok(());
        }
        let appends = changes.appends(context, now, correlation_id)?;
        let results = append_batch(&mut tx, &appends)
            .await
            .map_err(crate::import::too_many_locks)?;
        keep_register(&mut tx, &changes.written).await?;
        tx.commit().await?;
        self.store.wake_subscribers();
        let last = results.iter().flat_map(|r| r.positions.last().copied()).max();
        report.last_position = report.last_position.max(last);
        Ok(())
    }

    /// Once a register exists: the dashboard's rows whose practice it does not hold, or whose
    /// PCN or place is not the register's (errors naming each row); and the registered practices
    /// the extract lacks (their ODS codes, sorted).
    pub(crate) async fn check_against_register(
        &self,
        rows: &[DashboardRow],
    ) -> Result<(Vec<ImportError>, Vec<String>), CommandError> {
        if !register_exists(self).await? {
            return Ok((Vec::new(), Vec::new()));
        }
        let codes: Vec<String> = rows
            .iter()
            .map(|r| r.observation.practice.ods_code.to_string())
            .collect();
        let registered = places(self, &codes).await?;
        let mut errors = Vec::new();
        for row in rows {
            let practice = &row.observation.practice;
            match registered.get(practice.ods_code.as_str()) {
                None => errors.push(ImportError::new(
                    row.line,
                    Some("ods_code"),
                    format!("{} is not in the practice register", practice.ods_code),
                )),
                Some((pcn, place)) => {
                    if practice.pcn_code.as_str() != pcn {
                        errors.push(ImportError::new(
                            row.line,
                            Some("pcn_code"),
                            format!(
                                "{}: the register has it in {pcn}, not {}",
                                practice.ods_code, practice.pcn_code
                            ),
                        ));
                    }
                    if practice.place.as_str() != place {
                        errors.push(ImportError::new(
                            row.line,
                            Some("place"),
                            format!(
                                "{}: the register has it in {place}, not {}",
                                practice.ods_code, practice.place
                            ),
                        ));
                    }
                }
            }
        }
        let missing = sqlx::query_scalar!(
            "select ods_code from practice_register
              where not (ods_code = any($1))
                and entry->'ods'->>'closed' is null and coalesce(entry->'ods'->>'status', '') <> 'CLOSED'
              order by ods_code",
            &codes
        )
        .fetch_all(self.store.pool())
        .await?;
        Ok((errors, missing))
    }

    /// Imports the DHU's own visibility extract (CSV) as `actor` (the DHU or an admin): checked
    /// whole first; a row already recorded with the same count is not written again, one with
    /// another count refuses the file.
    #[tracing::instrument(name = "import_dhu_extract", skip_all, fields(actor = %actor.id))]
    pub async fn import_dhu_extract(
        &self,
        actor: &Actor,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<DhuExtractReport, CommandError> {
        allowed(actor, CommandName::ImportDhuExtract)?;
        let bounds = self
            .imports
            .bounds(crate::import::uk_today(now), self.imports.max_dhu_rows);
        let parsed = crate::import::parse_off_the_workers(csv, move |csv| parse_dhu_extract(csv, &bounds)).await?;
        let rows = match parsed {
            Ok(rows) => rows,
            Err(errors) => return Ok(DhuExtractReport::refused(errors, 0)),
        };
        self.import_practice_rows(actor, &rows, None).await
    }

    /// Imports the 111 provider's weekly extract of calls to 111 in core hours by practice (CSV:
    /// week_start, ods_code, calls). Checked whole; a re-import writes nothing; a week's count is
    /// recorded once.
    pub async fn import_core_hours_calls(
        &self,
        actor: &Actor,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<DhuExtractReport, CommandError> {
        allowed(actor, CommandName::ImportCoreHoursCalls)?;
        let bounds = self
            .imports
            .bounds(crate::import::uk_today(now), self.imports.max_dhu_rows);
        let parsed = crate::import::parse_off_the_workers(csv, move |csv| {
            caseledger_cases::calls::parse_core_hours_calls(csv, &bounds)
        })
        .await?;
        match parsed {
            Ok(rows) => self.import_practice_rows(actor, &rows, None).await,
            Err(errors) => Ok(DhuExtractReport::refused(errors, 0)),
        }
    }

    /// Writes an extract's checked rows, one event each in its practice's stream, all together or
    /// none: refused whole when it names more practices than a register may hold, a practice the
    /// register does not have (once there is a register), or a row recorded before differently.
    /// Within `pcn`, every row's practice must be one of that PCN's in the register.
    pub(crate) async fn import_practice_rows<R: PracticeRow>(
        &self,
        actor: &Actor,
        rows: &[R],
        pcn: Option<&caseledger_cases::values::PcnCode>,
    ) -> Result<DhuExtractReport, CommandError> {
        let mut errors = Vec::new();
        // Each practice's stream is locked while the extract is written: as many practices as a
        // register may hold, not a row's worth each.
        let practices: std::collections::HashSet<&str> = rows.iter().map(|r| r.ods_code().as_str()).collect();
        if practices.len() > self.imports.max_practices {
            return Ok(DhuExtractReport::refused(
                vec![ImportError::new(
                    1,
                    Some("ods_code"),
                    format!(
                        "the extract names {} practices; at most {} are accepted",
                        practices.len(),
                        self.imports.max_practices
                    ),
                )],
                rows.len(),
            ));
        }
        let codes: Vec<String> = rows.iter().map(|r| r.ods_code().to_string()).collect();
        if let Some(pcn) = pcn {
            let theirs = pcns_of(self, &codes).await?;
            errors.extend(rows.iter().filter_map(|r| {
                let message = match theirs.get(r.ods_code().as_str()) {
                    None => format!("{} is not a practice CaseLedger knows", r.ods_code()),
                    Some(theirs) if theirs != pcn.as_str() => {
                        format!("{} is not one of PCN {pcn}'s practices", r.ods_code())
                    }
                    Some(_) => return None,
                };
                Some(ImportError::new(r.line(), Some("ods_code"), message))
            }));
            // Refused here, before anything is compared with what was recorded: a row of another
            // PCN's practice learns nothing of that practice's figures.
            if !errors.is_empty() {
                return Ok(DhuExtractReport::refused(errors, rows.len()));
            }
        } else if register_exists(self).await? {
            let registered = places(self, &codes).await?;
            errors.extend(
                rows.iter()
                    .filter(|r| !registered.contains_key(r.ods_code().as_str()))
                    .map(|r| {
                        ImportError::new(
                            r.line(),
                            Some("ods_code"),
                            format!("{} is not in the practice register", r.ods_code()),
                        )
                    }),
            );
        }
        errors.extend(recorded_differently(&self.store, rows, R::event_id, R::differs).await?);
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Ok(DhuExtractReport::refused(errors, rows.len()));
        }
        let context = CommandContext::new(actor.clone());
        let correlation_id = Uuid::now_v7();
        let mut report = DhuExtractReport {
            rows: rows.len(),
            ..DhuExtractReport::default()
        };
        // Every new row in one transaction: all of it, or nothing.
        let ids: Vec<Uuid> = rows.iter().map(R::event_id).collect();
        let recorded = self.recorded(&ids).await?;
        let appends = rows
            .iter()
            .zip(&ids)
            .filter(|(_, id)| !recorded.contains(id))
            .map(|(row, id)| practice_append(row, *id, &context, correlation_id))
            .collect::<Result<Vec<_>, _>>()?;
        report.observed = appends.len();
        report.last_position = self.write_together(&appends, &[]).await?;
        Ok(report)
    }
}

/// One row of an extract about practices: one event in its practice's stream, dated its day,
/// with an id from what it is about (so a re-import is the same event).
pub(crate) trait PracticeRow {
    fn line(&self) -> u64;
    fn ods_code(&self) -> &caseledger_cases::values::OdsCode;
    fn event_id(&self) -> Uuid;
    fn event(&self) -> CaseEvent;
    fn day(&self) -> NaiveDate;
    /// Why the row differs from what was recorded before under its id.
    fn differs(&self, before: &CaseEvent) -> Option<ImportError>;
}

impl PracticeRow for DhuRow {
    fn line(&self) -> u64 {
        self.line
    }

    fn ods_code(&self) -> &caseledger_cases::values::OdsCode {
        &self.observation.ods_code
    }

    fn event_id(&self) -> Uuid {
        dhu_observation_id(self.observation.ods_code.as_str(), self.observation.date)
    }

    fn event(&self) -> CaseEvent {
        CaseEvent::DhuSlotsObserved(self.observation.clone())
    }

    fn day(&self) -> NaiveDate {
        self.observation.date
    }

    fn differs(&self, before: &CaseEvent) -> Option<ImportError> {
        match before {
            CaseEvent::DhuSlotsObserved(before) if *before != self.observation => Some(ImportError::new(
                self.line,
                Some("slots_visible"),
                format!(
                    "{} on {} was recorded before as {} slots: a day's count is recorded once",
                    self.observation.ods_code,
                    self.observation.date,
                    before.visible_slots.get()
                ),
            )),
            _ => None,
        }
    }
}

impl PracticeRow for caseledger_cases::calls::CallsRow {
    fn line(&self) -> u64 {
        self.line
    }

    fn ods_code(&self) -> &caseledger_cases::values::OdsCode {
        &self.reported.ods_code
    }

    fn event_id(&self) -> Uuid {
        const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d63_616c_0001);
        Uuid::new_v5(
            &NAMESPACE,
            format!("{}/{}", self.reported.ods_code, self.reported.week_start).as_bytes(),
        )
    }

    fn event(&self) -> CaseEvent {
        CaseEvent::CoreHoursCallsReported(self.reported.clone())
    }

    fn day(&self) -> NaiveDate {
        self.reported.week_start
    }

    fn differs(&self, before: &CaseEvent) -> Option<ImportError> {
        match before {
            CaseEvent::CoreHoursCallsReported(before) if *before != self.reported => Some(ImportError::new(
                self.line,
                Some("calls"),
                format!(
                    "{} in the week of {} was recorded before as {} calls: a week's count is recorded once",
                    self.reported.ods_code, self.reported.week_start, before.calls
                ),
            )),
            _ => None,
        }
    }
}

/// One row's event, dated its day (at 00:00:00Z), under `id`.
fn practice_append<R: PracticeRow>(
    row: &R,
    id: Uuid,
    context: &CommandContext,
    correlation_id: Uuid,
) -> Result<StreamAppend, CommandError> {
    let at = row.day().and_time(chrono::NaiveTime::MIN).and_utc();
    let (event_type, data) = encode_event(&row.event());
    let event = NewEvent::new(id, event_type, &data, metadata(context, at, correlation_id))
        .map_err(|e| StoreError::Malformed(e.to_string()))?;
    Ok(StreamAppend {
        stream: practice_stream(row.ods_code()),
        expected: ExpectedRevision::Any,
        events: vec![event],
    })
}

/// The same practice and day always give the same event id.
fn dhu_observation_id(ods_code: &str, date: NaiveDate) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6361_7365_6c65_6467_6572_2d64_6875_0001);
    Uuid::new_v5(&NAMESPACE, format!("{ods_code}/{date}").as_bytes())
}

impl Commands {
    /// Records one of CaseLedger's GP Connect free-slot searches of a practice, as `actor` asked
    /// for it (a scheduled run records as the system's admin): `SlotVisibilityVerified`, or
    /// `SlotVisibilityCheckFailed` when the search did not answer, in the practice's stream, at
    /// `at` (when the search ran).
    #[tracing::instrument(name = "record_verification", skip_all, fields(actor = %actor.id, ods = %verification.ods_code))]
    pub async fn record_verification(
        &self,
        actor: &Actor,
        verification: SlotVerification,
        at: DateTime<Utc>,
    ) -> Result<Option<Position>, CommandError> {
        allowed(actor, CommandName::VerifySlotVisibility)?;
        let context = CommandContext::new(actor.clone());
        let stream = practice_stream(&verification.ods_code);
        let (event_type, data) = encode_event(&verification.into_event());
        let event = NewEvent::new(
            Uuid::now_v7(),
            event_type,
            &data,
            metadata(&context, at, Uuid::now_v7()),
        )
        .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let (_, last) = append_each(
            &self.store,
            &[StreamAppend {
                stream,
                expected: ExpectedRevision::Any,
                events: vec![event],
            }],
        )
        .await?;
        Ok(last)
    }
}
