//! `case_view`: one row per case, folded with the domain's own `evolve`, plus when the case first
//! went to contract review and when each party last saw something happen on it (through its own
//! lens, so a party cannot learn of events hidden from it by watching the time move). A batch loads
//! its cases in one query and writes them back in one.

use std::collections::HashMap;

use caseledger_cases::case::RemapChange;
use caseledger_cases::case::RootCause;
use caseledger_cases::practice::PracticeDetails;
use caseledger_cases::values::{OdsCode, PcnCode, ShortText};
use caseledger_cases::{Case, CaseStatus, Role, evolve};
use caseledger_commands::envelope_of;
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sqlx::PgConnection;
use uuid::Uuid;

pub const NAME: &str = "case_view";

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
            Role::Lmc => &mut self.lmc,
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
            Role::Lmc => self.lmc,
            Role::Icb | Role::Admin => self.icb,
        }
    }
}

/// A case while a batch is folded into it.
struct Folded {
    case: Case,
    escalated_at: Option<DateTime<Utc>>,
    activity: Activity,
}

/// A `case_view` row: every column, in order. The projection writes it (as JSON, in one upsert
/// a batch); the API reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRow {
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
}

impl EventHandler for CaseViewProjection {
    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        let relevant: Vec<(Uuid, &RecordedEvent)> = events
            .iter()
            .filter_map(|e| {
                let id = e
                    .stream_id
                    .strip_prefix("case-")
                    .or_else(|| e.stream_id.strip_prefix("contract-"))?;
                Some((Uuid::parse_str(id).ok()?, e))
            })
            .collect();
        if relevant.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = relevant.iter().map(|(id, _)| *id).collect();
        let stored: Vec<CaseRow> = sqlx::query_scalar!(
            r#"select to_jsonb(c) as "row!" from case_view c where c.case_id = any($1)"#,
            &ids
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?;
        let mut cases: HashMap<Uuid, Folded> = HashMap::new();
        for row in stored {
            let folded = Folded {
                case: row.to_case()?,
                escalated_at: row.escalated_at,
                activity: row.activity(),
            };
            cases.insert(row.case_id, folded);
        }

        for (case_id, event) in relevant {
            let envelope = envelope_of(event)?;
            let at = envelope.occurred_at;
            if event.stream_id.starts_with("contract-") {
                if let Some(folded) = cases.get_mut(&case_id) {
                    folded.escalated_at = Some(folded.escalated_at.map_or(at, |first| first.min(at)));
                    folded.activity.saw(&event.event_type, at);
                }
                continue;
            }
            let mut folded = cases.remove(&case_id).unwrap_or(Folded {
                case: Case::default(),
                escalated_at: None,
                activity: Activity::starting(at),
            });
            folded.case = evolve(folded.case, &envelope);
            folded.activity.saw(&event.event_type, at);
            cases.insert(case_id, folded);
        }

        let rows: Vec<CaseRow> = cases
            .into_iter()
            .filter_map(|(case_id, f)| CaseRow::of(case_id, &f.case, f.escalated_at, f.activity))
            .collect();
        let rows = serde_json::to_value(rows)?;
        sqlx::query!(
            r#"insert into case_view
               select * from jsonb_to_recordset($1) as r(
                   case_id uuid, ods_code text, practice_name text, pcn_code text, pcn_name text, place text,
                   list_size integer, required_slots integer, status text, revision bigint,
                   created_at timestamptz, opened_at timestamptz, compliant_at timestamptz, closed_at timestamptz,
                   visible_slots integer, assigned_to text, root_causes text[], remap_changes text[],
                   open_dhu_issue boolean, escalated_at timestamptz, last_activity_icb timestamptz,
                   last_activity_champion timestamptz, last_activity_dhu timestamptz, last_activity_lmc timestamptz)
               on conflict (case_id) do update set
                   ods_code = excluded.ods_code, practice_name = excluded.practice_name,
                   pcn_code = excluded.pcn_code, pcn_name = excluded.pcn_name, place = excluded.place,
                   list_size = excluded.list_size, required_slots = excluded.required_slots,
                   status = excluded.status, revision = excluded.revision, created_at = excluded.created_at,
                   opened_at = excluded.opened_at, compliant_at = excluded.compliant_at,
                   closed_at = excluded.closed_at, visible_slots = excluded.visible_slots,
                   assigned_to = excluded.assigned_to, root_causes = excluded.root_causes,
                   remap_changes = excluded.remap_changes, open_dhu_issue = excluded.open_dhu_issue,
                   escalated_at = excluded.escalated_at, last_activity_icb = excluded.last_activity_icb,
                   last_activity_champion = excluded.last_activity_champion,
                   last_activity_dhu = excluded.last_activity_dhu, last_activity_lmc = excluded.last_activity_lmc"#,
            rows
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

impl CaseRow {
    /// The row of `case`, as a command or the projection left it.
    pub fn of(case_id: Uuid, case: &Case, escalated_at: Option<DateTime<Utc>>, activity: Activity) -> Option<Self> {
        let (status, practice, created_at, opened_at) =
            (case.status?, case.practice.as_ref()?, case.created_at?, case.opened_at?);
        Some(Self {
            case_id,
            ods_code: practice.ods_code.to_string(),
            practice_name: practice.name.to_string(),
            pcn_code: practice.pcn_code.to_string(),
            pcn_name: practice.pcn_name.as_ref().map(ToString::to_string),
            place: practice.place.to_string(),
            list_size: i32::try_from(case.list_size).unwrap_or(i32::MAX),
            required_slots: i32::try_from(case.required_slots).unwrap_or(i32::MAX),
            status: status.as_str().to_string(),
            revision: case.revision().and_then(|r| i64::try_from(r).ok()).unwrap_or_default(),
            created_at,
            opened_at,
            compliant_at: case.compliant_at,
            closed_at: case.closed_at,
            visible_slots: case.visible_slots.and_then(|v| i32::try_from(v).ok()),
            assigned_to: case.assigned_to.as_ref().map(ToString::to_string),
            root_causes: case.root_causes.iter().map(name_of).collect(),
            remap_changes: case.remap_changes.iter().map(name_of).collect(),
            open_dhu_issue: case.open_dhu_issue,
            escalated_at,
            last_activity_icb: activity.icb,
            last_activity_champion: activity.champion,
            last_activity_dhu: activity.dhu,
            last_activity_lmc: activity.lmc,
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

    /// The status column as the domain's status.
    pub fn status(&self) -> Option<CaseStatus> {
        parse_name(&self.status).ok()
    }

    fn to_case(&self) -> Result<Case, HandlerError> {
        let status: CaseStatus = parse_name(&self.status)?;
        Ok(Case {
            status: Some(status),
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
            root_causes: self
                .root_causes
                .iter()
                .map(|c| parse_name::<RootCause>(c))
                .collect::<Result<_, _>>()?,
            remap_changes: self
                .remap_changes
                .iter()
                .map(|c| parse_name::<RemapChange>(c))
                .collect::<Result<_, _>>()?,
            open_dhu_issue: self.open_dhu_issue,
            visible_slots: self.visible_slots.and_then(|v| u32::try_from(v).ok()),
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

fn parse_name<T: DeserializeOwned>(name: &str) -> Result<T, HandlerError> {
    Ok(serde_json::from_value(serde_json::Value::String(name.to_string()))?)
}
