//! `case_view`: one row per case, folded with the domain's own `evolve`, plus when the case first
//! went to contract review and when each party last saw something happen on it (through its own
//! lens, so a party cannot learn of events hidden from it by watching the time move). A batch loads
//! its cases in one query and writes them back in one.

use std::collections::HashMap;

use crate::envelope_of;
use caseledger_cases::case::{
    CaseEvent, DhuCheck, FlagSourceKind, RemapChange, ReopenCause, RootCause, StreamKind, StreamName, decode_event,
};
use caseledger_cases::practice::{PracticeDetails, SlotVerification, SlotsObserved};
use caseledger_cases::values::{OdsCode, PcnCode, ShortText};
use caseledger_cases::{Case, CaseStatus, Role, evolve};
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

mod queries;
pub mod support;

pub use queries::{
    CaseFilter, Cursor, Page, awaiting_dhu, by_id, by_ids, by_practice, contract_reviews, count, dhu_shortfalls, list,
    of_organisation, open_dhu_issues, open_statuses, page, stages,
};

pub const NAME: &str = <CaseViewProjection as crate::declared::Registered>::NAME;

impl crate::declared::Registered for CaseViewProjection {
    const NAME: &'static str = "case_view";
    const TABLES: &'static [&'static str] = &["case_view"];
}

/// Keeps `case_view`.
#[derive(Debug, Default)]
pub struct CaseViewProjection;

/// The parties whose last activity the view keeps, in the order of [`Activity`]'s fields.
const PARTIES: [Role; 4] = [Role::Icb, Role::Champion, Role::Dhu, Role::Lmc];

/// Business time of the latest event each party's lens shows (admins see what the ICB sees).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub icb: DateTime<Utc>,
    pub champion: DateTime<Utc>,
    pub dhu: DateTime<Utc>,
    pub lmc: DateTime<Utc>,
}

impl Activity {
    pub fn starting(at: DateTime<Utc>) -> Self {
        Self {
            icb: at,
            champion: at,
            dhu: at,
            lmc: at,
        }
    }

    fn slot(&mut self, role: Role) -> &mut DateTime<Utc> {
        match role {
            Role::Champion => &mut self.champion,
            Role::Dhu => &mut self.dhu,
            // A practice and a PCN's clinical director read a case's support as the LMC does.
            Role::Lmc | Role::Practice | Role::PcnClinicalDirector => &mut self.lmc,
            Role::Icb | Role::Admin => &mut self.icb,
        }
    }

    /// An event of `event_type` happened at `at`: it moves the time of each party that sees it.
    fn saw(&mut self, event_type: &str, at: DateTime<Utc>) {
        for role in PARTIES {
            if crate::lens::shows(role, event_type) {
                *self.slot(role) = at;
            }
        }
    }

    /// The latest activity `viewer` may see.
    pub fn for_viewer(&self, viewer: Role) -> DateTime<Utc> {
        match viewer {
            Role::Champion => self.champion,
            Role::Dhu => self.dhu,
            Role::Lmc | Role::Practice | Role::PcnClinicalDirector => self.lmc,
            Role::Icb | Role::Admin => self.icb,
        }
    }
}

/// A case while a batch is folded into it.
struct Folded {
    case: Case,
    escalated_at: Option<DateTime<Utc>>,
    activity: Activity,
    /// The report date of what set the case's requirement last.
    requirement_date: NaiveDate,
    /// What the visible slots are from, and when.
    visible: Option<(&'static str, DateTime<Utc>)>,
}

/// A stored source's name, as the projection writes it.
fn source_name(name: &str) -> Option<&'static str> {
    [
        "FLAG",
        "DASHBOARD",
        "DHU_CONFIRMATION",
        "GP_CONNECT",
        "COMPLIANCE_CONFIRMATION",
        "REOPEN",
    ]
    .into_iter()
    .find(|known| *known == name)
}

/// What an event of the case's own says its visible slots are from, if it sets them.
fn visible_source(event: &CaseEvent) -> Option<&'static str> {
    match event {
        CaseEvent::PracticeFlagged(_) => Some("FLAG"),
        CaseEvent::DhuVisibilityConfirmed(_) => Some("DHU_CONFIRMATION"),
        CaseEvent::ComplianceConfirmed(_) => Some("COMPLIANCE_CONFIRMATION"),
        CaseEvent::CaseReopened(e) if e.visible_slots.is_some() => Some("REOPEN"),
        _ => None,
    }
}

/// A `case_view` row: every column, in order. The projection writes it (as JSON, a batch at a
/// time); the API reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRow {
    pub case_id: Uuid,
    pub ods_code: String,
    pub practice_name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    /// The practice's list size and requirement now: the latest dashboard row's, or the case's.
    pub list_size: i32,
    pub required_slots: i32,
    pub status: CaseStatus,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub compliant_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub visible_slots: Option<i32>,
    pub assigned_to: Option<String>,
    pub root_causes: Vec<RootCause>,
    pub remap_changes: Vec<RemapChange>,
    pub open_dhu_issue: bool,
    pub escalated_at: Option<DateTime<Utc>>,
    pub last_activity_icb: DateTime<Utc>,
    pub last_activity_champion: DateTime<Utc>,
    pub last_activity_dhu: DateTime<Utc>,
    pub last_activity_lmc: DateTime<Utc>,
    pub last_remap_at: Option<DateTime<Utc>>,
    pub dhu_check_visible: Option<i32>,
    pub dhu_check_required: Option<i32>,
    pub dhu_check_at: Option<DateTime<Utc>>,
    pub dhu_confirmed_at: Option<DateTime<Utc>>,
    pub reopen_cause: Option<ReopenCause>,
    pub reviews: i32,
    pub review_open: bool,
    pub flag_source: FlagSourceKind,
    pub dhu_report_id: Option<Uuid>,
    pub requirement_date: NaiveDate,
    /// The first support in the current episode.
    pub first_support_at: Option<DateTime<Utc>>,
    /// What `visible_slots` is from (`FLAG`, `DASHBOARD`, `DHU_CONFIRMATION`, `GP_CONNECT`,
    /// `COMPLIANCE_CONFIRMATION`, `REOPEN`), and its business time: the latest evidence.
    pub visible_slots_source: Option<String>,
    pub visible_slots_at: Option<DateTime<Utc>>,
}

/// A `case_view` row as the database returns it (text where [`CaseRow`] has the domain's types):
/// decoded by sqlx directly, which is several times cheaper for a page of 500 than building and
/// parsing JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct StoredRow {
    pub case_id: Uuid,
    pub ods_code: String,
    pub practice_name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub list_size: i32,
    pub required_slots: i32,
    pub status: String,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub compliant_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub visible_slots: Option<i32>,
    pub assigned_to: Option<String>,
    pub root_causes: Vec<String>,
    pub remap_changes: Vec<String>,
    pub open_dhu_issue: bool,
    pub escalated_at: Option<DateTime<Utc>>,
    pub last_activity_icb: DateTime<Utc>,
    pub last_activity_champion: DateTime<Utc>,
    pub last_activity_dhu: DateTime<Utc>,
    pub last_activity_lmc: DateTime<Utc>,
    pub last_remap_at: Option<DateTime<Utc>>,
    pub dhu_check_visible: Option<i32>,
    pub dhu_check_required: Option<i32>,
    pub dhu_check_at: Option<DateTime<Utc>>,
    pub dhu_confirmed_at: Option<DateTime<Utc>>,
    pub reopen_cause: Option<String>,
    pub reviews: i32,
    pub review_open: bool,
    pub flag_source: String,
    pub dhu_report_id: Option<Uuid>,
    pub requirement_date: NaiveDate,
    pub first_support_at: Option<DateTime<Utc>>,
    pub visible_slots_source: Option<String>,
    pub visible_slots_at: Option<DateTime<Utc>>,
}

/// An enum value from its serde name.
fn named<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl TryFrom<StoredRow> for CaseRow {
    type Error = sqlx::Error;

    fn try_from(row: StoredRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            status: status_of(&row.status)?,
            root_causes: row.root_causes.iter().map(|c| named(c)).collect::<Result<_, _>>()?,
            remap_changes: row.remap_changes.iter().map(|c| named(c)).collect::<Result<_, _>>()?,
            reopen_cause: row.reopen_cause.as_deref().map(named).transpose()?,
            flag_source: named(&row.flag_source)?,
            case_id: row.case_id,
            ods_code: row.ods_code,
            practice_name: row.practice_name,
            pcn_code: row.pcn_code,
            pcn_name: row.pcn_name,
            place: row.place,
            list_size: row.list_size,
            required_slots: row.required_slots,
            revision: row.revision,
            created_at: row.created_at,
            opened_at: row.opened_at,
            compliant_at: row.compliant_at,
            closed_at: row.closed_at,
            visible_slots: row.visible_slots,
            assigned_to: row.assigned_to,
            open_dhu_issue: row.open_dhu_issue,
            escalated_at: row.escalated_at,
            last_activity_icb: row.last_activity_icb,
            last_activity_champion: row.last_activity_champion,
            last_activity_dhu: row.last_activity_dhu,
            last_activity_lmc: row.last_activity_lmc,
            last_remap_at: row.last_remap_at,
            dhu_check_visible: row.dhu_check_visible,
            dhu_check_required: row.dhu_check_required,
            dhu_check_at: row.dhu_check_at,
            dhu_confirmed_at: row.dhu_confirmed_at,
            reviews: row.reviews,
            review_open: row.review_open,
            dhu_report_id: row.dhu_report_id,
            requirement_date: row.requirement_date,
            first_support_at: row.first_support_at,
            visible_slots_source: row.visible_slots_source,
            visible_slots_at: row.visible_slots_at,
        })
    }
}

/// The latest observation of a practice in a batch.
#[derive(Debug, Serialize)]
struct Requirement {
    ods_code: String,
    report_date: NaiveDate,
    list_size: u32,
    required_slots: u32,
}

/// A count of a practice's visible slots from its own stream (a dashboard row, a GP Connect
/// search): each open case of the practice takes it when it is later than the evidence it has.
#[derive(Debug, Serialize)]
struct Seen {
    ods_code: String,
    visible_slots: u32,
    source: &'static str,
    at: DateTime<Utc>,
}

impl EventHandler for CaseViewProjection {
    /// A case's and its contract review's events, and the practice events that carry the
    /// evidence and the requirement its row shows.
    fn reads(&self, event_type: &str) -> bool {
        matches!(
            caseledger_cases::case::stream_kind_of(event_type),
            StreamKind::Case | StreamKind::Contract
        ) || event_type == SlotsObserved::EVENT_TYPE
            || event_type == SlotVerification::VERIFIED
    }

    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        let mut relevant: Vec<(Uuid, &RecordedEvent)> = Vec::new();
        let mut requirements: HashMap<String, Requirement> = HashMap::new();
        let mut seen: HashMap<String, Seen> = HashMap::new();
        let mut saw = |count: Seen| {
            if seen.get(&count.ods_code).is_none_or(|before| before.at <= count.at) {
                seen.insert(count.ods_code.clone(), count);
            }
        };
        for event in events {
            match StreamName::parse(&event.stream_id) {
                Some(name @ (StreamName::Case(_) | StreamName::Contract(_))) if self.reads(&event.event_type) => {
                    if let Some(id) = name.case_id() {
                        relevant.push((id, event));
                    }
                }
                Some(StreamName::Practice(ods_code)) if event.event_type == SlotsObserved::EVENT_TYPE => {
                    let CaseEvent::SlotsObserved(observed) = decode_event(&event.event_type, event.data.get())? else {
                        continue;
                    };
                    saw(Seen {
                        ods_code: ods_code.to_string(),
                        visible_slots: observed.visible_slots.get(),
                        source: "DASHBOARD",
                        at: observed.report_date.and_time(chrono::NaiveTime::MIN).and_utc(),
                    });
                    let newer = requirements
                        .get(ods_code.as_str())
                        .is_none_or(|seen| seen.report_date <= observed.report_date);
                    if newer {
                        requirements.insert(
                            ods_code.to_string(),
                            Requirement {
                                ods_code: ods_code.to_string(),
                                report_date: observed.report_date,
                                list_size: observed.list_size.get(),
                                required_slots: observed.required_slots,
                            },
                        );
                    }
                }
                Some(StreamName::Practice(ods_code)) if event.event_type == SlotVerification::VERIFIED => {
                    let CaseEvent::SlotVisibilityVerified(found) = decode_event(&event.event_type, event.data.get())?
                    else {
                        continue;
                    };
                    if let Some(least) = found.min_per_core_day {
                        saw(Seen {
                            ods_code: ods_code.to_string(),
                            visible_slots: least,
                            source: "GP_CONNECT",
                            at: envelope_of(event)?.occurred_at,
                        });
                    }
                }
                _ => {}
            }
        }
        if !relevant.is_empty() {
            fold_cases(tx, &relevant).await?;
        }
        if !seen.is_empty() {
            // The latest evidence by business time: each open case of the practice, since it
            // opened, takes a count later than the one it has.
            let open = queries::open_statuses();
            let seen: Vec<Seen> = seen.into_values().collect();
            sqlx::query!(
                r#"update case_view c
                      set visible_slots = o.visible_slots, visible_slots_source = o.source, visible_slots_at = o.at
                     from jsonb_to_recordset($1) as o(ods_code text, visible_slots integer, source text, at timestamptz)
                    where c.ods_code = o.ods_code and c.status = any($2) and o.at >= c.opened_at
                      and coalesce(c.visible_slots_at, '-infinity') < o.at"#,
                serde_json::to_value(seen)?,
                &open as &[&str]
            )
            .execute(&mut *tx)
            .await?;
        }
        if !requirements.is_empty() {
            // The requirement follows the list size: each case of the practice takes the latest
            // dashboard row's.
            let requirements: Vec<Requirement> = requirements.into_values().collect();
            sqlx::query!(
                r#"update case_view c
                      set list_size = o.list_size, required_slots = o.required_slots, requirement_date = o.report_date
                     from jsonb_to_recordset($1) as o(ods_code text, report_date date, list_size integer,
                                                       required_slots integer)
                    where c.ods_code = o.ods_code and c.requirement_date < o.report_date"#,
                serde_json::to_value(requirements)?
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// Folds the batch's case and contract events into their rows and writes them back.
async fn fold_cases(tx: &mut PgConnection, relevant: &[(Uuid, &RecordedEvent)]) -> Result<(), HandlerError> {
    let ids: Vec<Uuid> = relevant.iter().map(|(id, _)| *id).collect();
    let stored: Vec<CaseRow> = sqlx::query_as!(
        StoredRow,
        r#"select c.* from case_view c where c.case_id = any($1)"#,
        &ids
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(CaseRow::try_from)
    .collect::<Result<_, _>>()?;
    let mut cases: HashMap<Uuid, Folded> = HashMap::new();
    for row in stored {
        let folded = Folded {
            case: row.to_case()?,
            escalated_at: row.escalated_at,
            activity: row.activity(),
            requirement_date: row.requirement_date,
            visible: row
                .visible_slots_source
                .as_deref()
                .and_then(source_name)
                .zip(row.visible_slots_at),
        };
        cases.insert(row.case_id, folded);
    }

    for (case_id, event) in relevant {
        let envelope = envelope_of(event)?;
        let at = envelope.occurred_at;
        let Some(folded) = (match cases.get_mut(case_id) {
            Some(folded) => Some(folded),
            // A case's first event makes its row; a review of a case not seen yet has none.
            None if envelope.event.stream_kind() == StreamKind::Case => Some(cases.entry(*case_id).or_insert(Folded {
                case: Case::default(),
                escalated_at: None,
                activity: Activity::starting(at),
                requirement_date: at.date_naive(),
                visible: None,
            })),
            None => None,
        }) else {
            continue;
        };
        match &envelope.event {
            CaseEvent::EscalatedToContractReview(_) => {
                folded.escalated_at = Some(folded.escalated_at.map_or(at, |first| first.min(at)));
            }
            CaseEvent::PracticeFlagged(flagged) => {
                folded.requirement_date = flagged.source.report_date.unwrap_or(at.date_naive());
            }
            CaseEvent::CaseReopened(reopened) if reopened.list_size.is_some() => {
                folded.requirement_date = at.date_naive();
            }
            _ => {}
        }
        let before = folded.case.visible_slots;
        folded.case = evolve(std::mem::take(&mut folded.case), &envelope);
        if let Some(source) = visible_source(&envelope.event) {
            // The latest evidence by business time stands: an older one, recorded later, does not
            // replace it.
            match folded.visible {
                Some((_, latest)) if latest > at => folded.case.visible_slots = before,
                _ => folded.visible = Some((source, at)),
            }
        }
        folded.activity.saw(&event.event_type, at);
    }

    let rows: Vec<CaseRow> = cases
        .into_iter()
        .filter_map(|(case_id, f)| {
            CaseRow::of(case_id, &f.case, f.escalated_at, f.activity, f.requirement_date).map(|row| CaseRow {
                visible_slots_source: f.visible.map(|(source, _)| source.to_string()),
                visible_slots_at: f.visible.map(|(_, at)| at),
                ..row
            })
        })
        .collect();
    let written: Vec<Uuid> = rows.iter().map(|row| row.case_id).collect();
    // Each row whole, by the table's own column names: no column list to keep in step.
    sqlx::query!("delete from case_view where case_id = any($1)", &written)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "insert into case_view select * from jsonb_populate_recordset(null::case_view, $1)",
        serde_json::to_value(rows)?
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl CaseRow {
    /// What the row's dates say about where the case stands, for its deadline.
    pub fn stage_dates(&self) -> caseledger_cases::deadlines::StageDates {
        stage_dates(
            self.status,
            self.opened_at,
            self.last_remap_at,
            self.dhu_confirmed_at,
            self.shortfall(),
            self.open_dhu_issue.then_some(self.last_activity_dhu),
        )
    }
}

/// Where a case stands for its deadline: a shortfall the DHU saw since the last remap, or else an
/// open DHU issue (its time: the DHU's last activity), sends it back to the champion.
fn stage_dates(
    status: CaseStatus,
    opened_at: DateTime<Utc>,
    last_remap_at: Option<DateTime<Utc>>,
    dhu_confirmed_at: Option<DateTime<Utc>>,
    shortfall: Option<DhuCheck>,
    open_dhu_issue_since: Option<DateTime<Utc>>,
) -> caseledger_cases::deadlines::StageDates {
    caseledger_cases::deadlines::StageDates {
        status,
        opened_at,
        last_remap_at,
        dhu_confirmed_at,
        dhu_problem_at: shortfall.map(|check| check.at).or(open_dhu_issue_since),
    }
}

/// A `case_view` row's status.
fn status_of(text: &str) -> Result<CaseStatus, sqlx::Error> {
    CaseStatus::parse(text).ok_or_else(|| sqlx::Error::Decode(format!("case_view status {text:?}").into()))
}

/// The DHU's look, when it fell short of the requirement.
fn fell_short(check: Option<DhuCheck>) -> Option<DhuCheck> {
    check.filter(|check| !check.meets())
}

/// The DHU's latest look as a row stores it, if there is one.
fn dhu_check(visible: Option<i32>, required: Option<i32>, at: Option<DateTime<Utc>>) -> Option<DhuCheck> {
    let count = |n: i32| u32::try_from(n).ok();
    Some(DhuCheck {
        visible: count(visible?)?,
        required: count(required?)?,
        at: at?,
    })
}

/// The columns of a `case_view` row a deadline is worked out from: what the overdue lists read of
/// every open case, before reading whole only the rows they show.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct StageColumns {
    pub case_id: Uuid,
    pub status: String,
    pub opened_at: DateTime<Utc>,
    pub last_remap_at: Option<DateTime<Utc>>,
    pub dhu_confirmed_at: Option<DateTime<Utc>>,
    pub open_dhu_issue: bool,
    pub last_activity_dhu: DateTime<Utc>,
    pub dhu_check_visible: Option<i32>,
    pub dhu_check_required: Option<i32>,
    pub dhu_check_at: Option<DateTime<Utc>>,
}

impl StageColumns {
    /// The case's id and stage dates; an error if its status is not one.
    pub(crate) fn decode(self) -> Result<(Uuid, caseledger_cases::deadlines::StageDates), sqlx::Error> {
        let status = status_of(&self.status)?;
        let shortfall = fell_short(dhu_check(
            self.dhu_check_visible,
            self.dhu_check_required,
            self.dhu_check_at,
        ));
        Ok((
            self.case_id,
            stage_dates(
                status,
                self.opened_at,
                self.last_remap_at,
                self.dhu_confirmed_at,
                shortfall,
                self.open_dhu_issue.then_some(self.last_activity_dhu),
            ),
        ))
    }
}

impl CaseRow {
    /// The row of `case`, as a command or the projection left it.
    pub fn of(
        case_id: Uuid,
        case: &Case,
        escalated_at: Option<DateTime<Utc>>,
        activity: Activity,
        requirement_date: NaiveDate,
    ) -> Option<Self> {
        let (status, practice, created_at, opened_at) =
            (case.status?, case.practice.as_ref()?, case.created_at?, case.opened_at?);
        let int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Some(Self {
            case_id,
            ods_code: practice.ods_code.to_string(),
            practice_name: practice.name.to_string(),
            pcn_code: practice.pcn_code.to_string(),
            pcn_name: practice.pcn_name.as_ref().map(ToString::to_string),
            place: practice.place.to_string(),
            list_size: int(case.list_size),
            required_slots: int(case.required_slots),
            status,
            revision: case.revision().and_then(|r| i64::try_from(r).ok()).unwrap_or_default(),
            created_at,
            opened_at,
            compliant_at: case.compliant_at,
            closed_at: case.closed_at,
            visible_slots: case.visible_slots.map(int),
            assigned_to: case.assigned_to.as_ref().map(ToString::to_string),
            root_causes: case.root_causes.clone(),
            remap_changes: case.remap_changes.clone(),
            open_dhu_issue: case.open_dhu_issue,
            escalated_at,
            last_activity_icb: activity.icb,
            last_activity_champion: activity.champion,
            last_activity_dhu: activity.dhu,
            last_activity_lmc: activity.lmc,
            last_remap_at: case.last_remap_at,
            dhu_check_visible: case.dhu_check.map(|c| int(c.visible)),
            dhu_check_required: case.dhu_check.map(|c| int(c.required)),
            dhu_check_at: case.dhu_check.map(|c| c.at),
            dhu_confirmed_at: case.dhu_confirmed_at,
            reopen_cause: case.reopen_cause,
            reviews: int(case.reviews),
            review_open: case.review_open,
            flag_source: case.flag_source.unwrap_or(FlagSourceKind::Manual),
            dhu_report_id: case.dhu_report_id,
            requirement_date,
            first_support_at: case.first_support_at,
            visible_slots_source: None,
            visible_slots_at: None,
        })
    }

    /// When each party last saw the case move.
    pub fn activity(&self) -> Activity {
        Activity {
            icb: self.last_activity_icb,
            champion: self.last_activity_champion,
            dhu: self.last_activity_dhu,
            lmc: self.last_activity_lmc,
        }
    }

    /// The DHU's latest look since the last remap, when it fell short.
    pub fn shortfall(&self) -> Option<DhuCheck> {
        fell_short(self.dhu_check())
    }

    fn dhu_check(&self) -> Option<DhuCheck> {
        dhu_check(self.dhu_check_visible, self.dhu_check_required, self.dhu_check_at)
    }

    fn to_case(&self) -> Result<Case, HandlerError> {
        Ok(Case {
            status: Some(self.status),
            practice: Some(PracticeDetails {
                ods_code: OdsCode::parse(&self.ods_code)?,
                name: ShortText::parse(&self.practice_name)?,
                pcn_code: PcnCode::parse(&self.pcn_code)?,
                pcn_name: ShortText::parse_optional(self.pcn_name.as_deref())?,
                place: ShortText::parse(&self.place)?,
            }),
            list_size: u32::try_from(self.list_size)?,
            required_slots: u32::try_from(self.required_slots)?,
            created_at: Some(self.created_at),
            opened_at: Some(self.opened_at),
            compliant_at: self.compliant_at,
            closed_at: self.closed_at,
            assigned_to: ShortText::parse_optional(self.assigned_to.as_deref())?,
            root_causes: self.root_causes.clone(),
            remap_changes: self.remap_changes.clone(),
            open_dhu_issue: self.open_dhu_issue,
            // Not kept by the view (the rules read it from the case's history).
            dhu_issue_at: None,
            first_support_at: self.first_support_at,
            visible_slots: self.visible_slots.and_then(|v| u32::try_from(v).ok()),
            last_remap_at: self.last_remap_at,
            dhu_check: self.dhu_check(),
            dhu_confirmed_at: self.dhu_confirmed_at,
            reopen_cause: self.reopen_cause,
            reviews: u32::try_from(self.reviews)?,
            review_open: self.review_open,
            // Not kept by the view: the case's history says when.
            personal_data_erased_at: None,
            flag_source: Some(self.flag_source),
            dhu_report_id: self.dhu_report_id,
            observations: Vec::new(),
            verifications: Vec::new(),
            events: u64::try_from(self.revision)? + 1,
        })
    }
}

/// The serde name of an enum value (`slot_type_not_external`, `DHU_CONFIRMED`).
pub fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// Closed cases whose personal data is still readable (their data key is live) and that closed
/// before `cutoff`: what a retention period erases, oldest first.
pub async fn closed_with_personal_data(
    pool: &sqlx::PgPool,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select c.case_id from case_view c
         where c.status = 'CLOSED' and c.closed_at < $1
           and exists (select 1 from data_keys k where k.scope = c.case_id::text and k.wrapped is not null)
         order by c.closed_at limit $2",
        cutoff,
        limit
    )
    .fetch_all(pool)
    .await
}
