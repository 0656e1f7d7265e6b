//! The register from the files NHS England publishes, loaded as they are: ODS's `epraccur.csv`
//! (who the practices are, where, their telephone, when they opened and closed), "Patients
//! Registered at a GP Practice" (list sizes) and ODS's ePCN release (PCN membership). Each import
//! keeps its file's facts about this ICB's practices (the `ods_*` tables) and composes every
//! practice's entry from all three and the hand-built register's sites ([`compose`]): the files
//! may come in any order, and a practice enters the register once its list size is known. Its
//! events, the register's rows, the files' facts and any reopened case are written in one
//! transaction: all of it, or nothing.
//!
//! A list size that raises a practice's requirement above what its COMPLIANT case last saw
//! reopens the case (`LIST_SIZE_RISE`, with the reason), dated the extract date. A practice that
//! closes keeps its history; an open case on it is listed for the ICB to decide (close as
//! practice closed), never dropped.

use std::collections::HashMap;

use caseledger_cases::case::{CaseEvent, CommandName, ReopenCause};
use caseledger_cases::dashboard::ImportError;
use caseledger_cases::ods::{
    ListSizes, NotRegistered, OdsPractices, PcnMember, PcnMembers, Places, Published, SubIcbCodes, compose,
    parse_epraccur, parse_list_sizes, parse_pcn_members,
};
use caseledger_cases::practice::{OdsDetails, PracticeRegistration};
use caseledger_cases::values::{FreeText, OdsCode, ShortText, SlotCount};
use caseledger_cases::{Action, Actor, CaseError, Command, decide, required_slots};
use caseledger_eventstore::{Position, StoreError, append_batch};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::import::LISTED_ERRORS;
use crate::practices::{Changes, allowed, entries, keep_register, listed, take_turns};
use crate::registry::{RegisteredState, latest_cases};
use crate::{CommandContext, CommandError, Commands};

/// Rows a published file may have: a national `epraccur.csv` lists every prescribing
/// organisation England has had (about 13,000 rows today).
pub const MAX_PUBLISHED_ROWS: usize = 200_000;

/// This deployment's ICB, as the published files name it, and where its practices are counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// `CASELEDGER_SUB_ICB_CODES`: the ICB's sub-ICB location codes.
    pub icb: SubIcbCodes,
    /// `CASELEDGER_PLACES_FILE`: places by PCN or sub-ICB location code.
    pub places: Places,
}

/// Which published file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishedFile {
    /// ODS's `epraccur.csv`.
    Ods,
    /// "Patients Registered at a GP Practice", `gp-reg-pat-prac-all.csv`.
    ListSizes,
    /// ODS's ePCN release.
    Pcns,
}

/// What an import of a published file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedReport {
    pub file: PublishedFile,
    /// The file's rows about this ICB's practices.
    pub rows: usize,
    /// Rows about other ICBs' organisations, passed over.
    pub other_icbs: usize,
    /// Rows of this ICB passed over: organisations that are not GP practices (ODS), breakdowns
    /// by sex or age (list sizes).
    pub passed_over: usize,
    /// The list sizes' extract date.
    pub extract_date: Option<NaiveDate>,
    /// Practices registered for the first time.
    pub registered: usize,
    /// Practices whose entry changed.
    pub changed: usize,
    pub unchanged: usize,
    /// Practices that closed with this file (their ODS codes).
    pub closed: Vec<String>,
    /// Closed practices whose case is still open: the ICB decides (close as practice closed).
    pub closed_with_open_case: Vec<String>,
    /// Practices ODS lists that wait for a list size before they enter the register.
    pub awaiting_list_size: Vec<String>,
    /// Rows about practices ODS does not list for this ICB (or that closed before the register
    /// knew them), passed over.
    pub not_in_register: usize,
    /// Rows older than the list size held for their practice, passed over.
    pub older: usize,
    /// COMPLIANT cases reopened because the list size raised the requirement.
    pub reopened: usize,
    /// The first [`LISTED_ERRORS`] errors; non-empty means nothing was applied.
    pub errors: Vec<ImportError>,
    pub error_count: usize,
    #[serde(skip)]
    pub last_position: Option<Position>,
}

impl PublishedReport {
    fn new(file: PublishedFile) -> Self {
        Self {
            file,
            rows: 0,
            other_icbs: 0,
            passed_over: 0,
            extract_date: None,
            registered: 0,
            changed: 0,
            unchanged: 0,
            closed: Vec::new(),
            closed_with_open_case: Vec::new(),
            awaiting_list_size: Vec::new(),
            not_in_register: 0,
            older: 0,
            reopened: 0,
            errors: Vec::new(),
            error_count: 0,
            last_position: None,
        }
    }

    fn refused(file: PublishedFile, errors: Vec<ImportError>) -> Self {
        let (errors, error_count) = listed(errors);
        Self {
            errors,
            error_count,
            ..Self::new(file)
        }
    }
}

/// A parsed file.
enum Parsed {
    Ods(OdsPractices),
    ListSizes(ListSizes),
    Pcns(PcnMembers),
}

/// The files' facts about this ICB's practices, as held.
#[derive(Debug, Default)]
struct Held {
    practices: HashMap<String, (ShortText, OdsDetails)>,
    list_sizes: HashMap<String, (u32, NaiveDate)>,
    memberships: Option<HashMap<String, Vec<PcnMember>>>,
}

impl Held {
    async fn read(tx: &mut PgConnection) -> Result<Self, CommandError> {
        let malformed = |e: serde_json::Error| CommandError::Store(StoreError::Malformed(e.to_string()));
        let mut held = Held::default();
        for row in sqlx::query!("select ods_code, name, details from ods_practices")
            .fetch_all(&mut *tx)
            .await?
        {
            let name = ShortText::parse(&row.name).map_err(|e| StoreError::Malformed(e.to_string()))?;
            held.practices.insert(
                row.ods_code,
                (name, serde_json::from_value(row.details).map_err(malformed)?),
            );
        }
        for row in sqlx::query!("select ods_code, extract_date, patients from ods_list_sizes")
            .fetch_all(&mut *tx)
            .await?
        {
            held.list_sizes.insert(
                row.ods_code,
                (u32::try_from(row.patients).unwrap_or_default(), row.extract_date),
            );
        }
        let members = sqlx::query!("select ods_code, membership from ods_pcn_members")
            .fetch_all(&mut *tx)
            .await?;
        if !members.is_empty() {
            let mut memberships: HashMap<String, Vec<PcnMember>> = HashMap::new();
            for row in members {
                memberships
                    .entry(row.ods_code)
                    .or_default()
                    .push(serde_json::from_value(row.membership).map_err(malformed)?);
            }
            held.memberships = Some(memberships);
        }
        Ok(held)
    }

    /// The file's facts over those held.
    fn take(&mut self, parsed: &Parsed, report: &mut PublishedReport) {
        match parsed {
            Parsed::Ods(file) => {
                report.rows = file.practices.len();
                report.other_icbs = file.other_icbs;
                report.passed_over = file.not_gp_practices;
                self.practices = file
                    .practices
                    .iter()
                    .map(|p| (p.ods_code.to_string(), (p.name.clone(), p.details.clone())))
                    .collect();
            }
            Parsed::ListSizes(file) => {
                report.rows = file.rows.len();
                report.other_icbs = file.other_icbs;
                report.passed_over = file.breakdowns;
                report.extract_date = Some(file.extract_date);
                for row in &file.rows {
                    let code = row.ods_code.to_string();
                    match self.list_sizes.get(&code) {
                        Some((_, held)) if *held > file.extract_date => report.older += 1,
                        _ => {
                            if !self.practices.contains_key(&code) {
                                report.not_in_register += 1;
                            }
                            self.list_sizes.insert(code, (row.patients, file.extract_date));
                        }
                    }
                }
            }
            Parsed::Pcns(file) => {
                report.rows = file.members.len();
                report.other_icbs = file.other_icbs;
                let mut memberships: HashMap<String, Vec<PcnMember>> = HashMap::new();
                for member in &file.members {
                    if !self.practices.contains_key(member.ods_code.as_str()) {
                        report.not_in_register += 1;
                    }
                    memberships
                        .entry(member.ods_code.to_string())
                        .or_default()
                        .push(member.clone());
                }
                self.memberships = Some(memberships);
            }
        }
    }

    /// What the transaction keeps of the file.
    async fn keep(&self, tx: &mut PgConnection, parsed: &Parsed) -> Result<(), CommandError> {
        let json = |value: serde_json::Result<serde_json::Value>| {
            value.map_err(|e| CommandError::Store(StoreError::Malformed(e.to_string())))
        };
        match parsed {
            Parsed::Ods(_) => {
                let rows: Vec<serde_json::Value> = self
                    .practices
                    .iter()
                    .map(|(code, (name, details))| serde_json::json!({ "ods_code": code, "name": name, "details": details }))
                    .collect();
                sqlx::query!("delete from ods_practices").execute(&mut *tx).await?;
                sqlx::query!(
                    "insert into ods_practices (ods_code, name, details)
                     select e->>'ods_code', e->>'name', e->'details' from jsonb_array_elements($1) as e",
                    json(serde_json::to_value(&rows))?
                )
                .execute(&mut *tx)
                .await?;
            }
            Parsed::ListSizes(_) => {
                let rows: Vec<serde_json::Value> = self
                    .list_sizes
                    .iter()
                    .map(|(code, (patients, date))| serde_json::json!({ "ods_code": code, "patients": patients, "date": date }))
                    .collect();
                sqlx::query!(
                    "insert into ods_list_sizes (ods_code, extract_date, patients)
                     select e->>'ods_code', (e->>'date')::date, (e->>'patients')::integer
                       from jsonb_array_elements($1) as e
                     on conflict (ods_code) do update
                        set extract_date = excluded.extract_date, patients = excluded.patients",
                    json(serde_json::to_value(&rows))?
                )
                .execute(&mut *tx)
                .await?;
            }
            Parsed::Pcns(_) => {
                let rows: Vec<&PcnMember> = self.memberships.iter().flat_map(|m| m.values().flatten()).collect();
                sqlx::query!("delete from ods_pcn_members").execute(&mut *tx).await?;
                sqlx::query!(
                    "insert into ods_pcn_members (ods_code, membership)
                     select e->>'ods_code', e from jsonb_array_elements($1) as e",
                    json(serde_json::to_value(&rows))?
                )
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }
}

impl Commands {
    /// This deployment's ICB and places, for the published files.
    pub fn with_sources(mut self, sources: Sources) -> Self {
        self.sources = std::sync::Arc::new(sources);
        self
    }

    /// Imports ODS's `epraccur.csv` as `actor` (ICB or admin).
    pub async fn import_ods(
        &self,
        actor: &Actor,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<PublishedReport, CommandError> {
        self.import_published(actor, PublishedFile::Ods, csv, now).await
    }

    /// Imports "Patients Registered at a GP Practice" (`gp-reg-pat-prac-all.csv`).
    pub async fn import_list_sizes(
        &self,
        actor: &Actor,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<PublishedReport, CommandError> {
        self.import_published(actor, PublishedFile::ListSizes, csv, now).await
    }

    /// Imports ODS's ePCN release (its practices' PCN memberships).
    pub async fn import_pcns(
        &self,
        actor: &Actor,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<PublishedReport, CommandError> {
        self.import_published(actor, PublishedFile::Pcns, csv, now).await
    }

    #[tracing::instrument(name = "import_published", skip_all, fields(actor = %actor.id, file = ?file))]
    pub(crate) async fn import_published(
        &self,
        actor: &Actor,
        file: PublishedFile,
        csv: &str,
        now: DateTime<Utc>,
    ) -> Result<PublishedReport, CommandError> {
        allowed(actor, CommandName::RegisterPractice)?;
        if self.sources.icb.is_empty() {
            return Ok(PublishedReport::refused(
                file,
                vec![ImportError::new(
                    1,
                    None,
                    "this deployment does not name its ICB: set CASELEDGER_SUB_ICB_CODES to its sub-ICB location codes",
                )],
            ));
        }
        let icb = self.sources.icb.clone();
        let parsed = crate::import::parse_off_the_workers(csv, move |csv| match file {
            PublishedFile::Ods => parse_epraccur(csv, &icb, MAX_PUBLISHED_ROWS).map(Parsed::Ods),
            PublishedFile::ListSizes => parse_list_sizes(csv, &icb, MAX_PUBLISHED_ROWS).map(Parsed::ListSizes),
            PublishedFile::Pcns => parse_pcn_members(csv, &icb, MAX_PUBLISHED_ROWS).map(Parsed::Pcns),
        })
        .await?;
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(errors) => return Ok(PublishedReport::refused(file, errors)),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.apply_published(actor, file, &parsed, now).await {
                Err(CommandError::Store(StoreError::WrongExpectedVersion { .. })) if attempt < 3 => {}
                outcome => return outcome,
            }
        }
    }

    async fn apply_published(
        &self,
        actor: &Actor,
        file: PublishedFile,
        parsed: &Parsed,
        now: DateTime<Utc>,
    ) -> Result<PublishedReport, CommandError> {
        let mut report = PublishedReport::new(file);
        // A list size's business time is its extract date; the rest are as of now.
        let at = match parsed {
            Parsed::ListSizes(sizes) => sizes.extract_date.and_time(chrono::NaiveTime::MIN).and_utc().min(now),
            _ => now,
        };
        let today = crate::import::uk_today(now);
        let mut tx = self.store.pool().begin().await?;
        take_turns(&mut tx).await?;
        let mut held = Held::read(&mut tx).await?;
        held.take(parsed, &mut report);
        let codes: Vec<String> = held.practices.keys().cloned().collect();
        let before = entries(&mut tx, &codes).await?;
        let mut composed = Vec::new();
        let mut codes_sorted = codes.clone();
        codes_sorted.sort();
        for code in &codes_sorted {
            let Some((name, details)) = held.practices.get(code) else {
                continue;
            };
            let ods_code = OdsCode::parse(code).map_err(|e| StoreError::Malformed(e.to_string()))?;
            let memberships = held
                .memberships
                .as_ref()
                .map(|m| m.get(code).map_or(&[][..], Vec::as_slice));
            let published = Published {
                name,
                details,
                list_size: held.list_sizes.get(code).copied(),
                memberships,
            };
            match compose(&ods_code, &published, &self.sources.places, before.get(code), today) {
                Ok(entry) => composed.push(entry),
                Err(NotRegistered::AwaitingListSize) => report.awaiting_list_size.push(code.clone()),
                Err(NotRegistered::ClosedBeforehand) => {}
            }
        }
        report.awaiting_list_size.truncate(LISTED_ERRORS);
        let changes = Changes::between(&before, &composed);
        report.registered = changes.registered;
        report.changed = changes.changed;
        report.unchanged = changes.unchanged;
        report.closed = changes
            .written
            .iter()
            .filter(|(entry, _)| {
                entry.closed().is_some()
                    && before
                        .get(entry.practice.ods_code.as_str())
                        .is_none_or(|was| was.closed().is_none())
            })
            .map(|(entry, _)| entry.practice.ods_code.to_string())
            .collect();
        let context = CommandContext::new(actor.clone()).at(at);
        let correlation_id = Uuid::now_v7();
        let mut appends = changes.appends(&context, at, correlation_id)?;
        // Each practice's entry event, the cause of any reopen it brings.
        let causes: HashMap<String, Uuid> = appends
            .iter()
            .filter_map(|append| Some((append.stream.clone(), append.events.first()?.event_id)))
            .collect();
        let prepared = self
            .reopen_for_list_sizes(&changes, &before, &context, at, correlation_id, now, &causes)
            .await?;
        report.reopened = prepared.len();
        appends.extend(prepared.iter().map(|p| p.append.clone()));
        let results = if appends.is_empty() {
            Vec::new()
        } else {
            append_batch(&mut tx, &appends)
                .await
                .map_err(crate::import::too_many_locks)?
        };
        held.keep(&mut tx, parsed).await?;
        keep_register(&mut tx, &changes.written).await?;
        for command in &prepared {
            command.written(&mut tx).await?;
        }
        // Every closed practice whose case is still open, not only those closed now: the ICB
        // decides, and until then each import says so again.
        let closed: Vec<String> = composed
            .iter()
            .filter(|entry| entry.closed().is_some())
            .map(|entry| entry.practice.ods_code.to_string())
            .collect();
        report.closed_with_open_case = latest_cases(&mut tx, &closed)
            .await?
            .into_iter()
            .filter(|case| case.state == RegisteredState::Open)
            .map(|case| case.ods_code)
            .collect();
        report.closed_with_open_case.sort();
        tx.commit().await?;
        self.store.wake_subscribers();
        report.last_position = results.iter().flat_map(|r| r.positions.last().copied()).max();
        tracing::info!(
            rows = report.rows,
            registered = report.registered,
            changed = report.changed,
            closed = report.closed.len(),
            reopened = report.reopened,
            "published file imported"
        );
        Ok(report)
    }

    /// A reopen of each COMPLIANT case whose practice's new list size raises the requirement
    /// above the slots its case last saw.
    #[allow(clippy::too_many_arguments)]
    async fn reopen_for_list_sizes(
        &self,
        changes: &Changes,
        before: &HashMap<String, PracticeRegistration>,
        context: &CommandContext,
        at: DateTime<Utc>,
        correlation_id: Uuid,
        now: DateTime<Utc>,
        causes: &HashMap<String, Uuid>,
    ) -> Result<Vec<crate::handler::Prepared>, CommandError> {
        let risen: Vec<(&PracticeRegistration, &PracticeRegistration)> = changes
            .written
            .iter()
            .filter_map(|(entry, _)| {
                let was = before.get(entry.practice.ods_code.as_str())?;
                (required_slots(entry.list_size) > required_slots(was.list_size) && entry.closed().is_none())
                    .then_some((entry, was))
            })
            .collect();
        if risen.is_empty() {
            return Ok(Vec::new());
        }
        let codes: Vec<String> = risen.iter().map(|(e, _)| e.practice.ods_code.to_string()).collect();
        let mut conn = self.store.pool().acquire().await?;
        let latest = latest_cases(&mut conn, &codes).await?;
        drop(conn);
        let mut prepared = Vec::new();
        for (entry, was) in risen {
            let Some(case) = latest
                .iter()
                .find(|c| c.ods_code == entry.practice.ods_code.as_str() && c.state == RegisteredState::Compliant)
            else {
                continue;
            };
            let loaded = crate::history::load(&self.store, case.case_id, true).await?;
            let required = required_slots(entry.list_size);
            let visible = loaded.case.visible_slots.unwrap_or_default();
            // Compliance confirmed after the extract says nothing older can undo it.
            if visible >= required || loaded.case.compliant_at.is_some_and(|c| c >= at) {
                continue;
            }
            let reason = format!(
                "list size rise: {} to {} patients (extract of {}), {} to {required} slots a day required; {visible} visible",
                was.list_size.get(),
                entry.list_size.get(),
                entry.list_size_date.map_or_else(String::new, |d| d.to_string()),
                required_slots(was.list_size),
            );
            let action = Action::ReopenCase {
                reason: FreeText::parse(&reason).map_err(|e| CaseError::InvalidValue {
                    field: "reason",
                    source: e,
                })?,
                visible_slots: SlotCount::new(i64::from(visible)).ok(),
                cause: ReopenCause::ListSizeRise,
                list_size: Some(entry.list_size),
            };
            let mut context =
                context
                    .clone()
                    .with_command_id(format!("list-size:{}:{}", entry.practice.ods_code, at.date_naive()));
            context.causation_id = causes
                .get(&caseledger_cases::practice::practice_stream(&entry.practice.ods_code))
                .copied();
            let command = Command {
                actor: context.actor.clone(),
                occurred_at: at,
                action,
            };
            let events: Vec<CaseEvent> = decide(&loaded.case, &command, now)?;
            prepared.push(
                self.prepare(case.case_id, &loaded, &context, &events, at, correlation_id)
                    .await?,
            );
        }
        Ok(prepared)
    }
}
