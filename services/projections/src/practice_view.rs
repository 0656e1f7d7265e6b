//! `practice_view`: every practice the log knows (registered, observed on a dashboard, or flagged),
//! with its latest dashboard observation and the three counts of its 111 slots side by side:
//! configured by the practice (its cases' last remap), seen by the DHU (its latest confirmation on
//! a case, or its own extract), and the dashboard's. Beside it, every observation (the weekly
//! series), every DHU extract row, the extracts' report dates, and the practice of each case.
//! A batch loads the rows of its practices in one query, folds its events into them in Rust, and
//! writes them back in one.

mod queries;

use std::collections::{BTreeMap, HashMap};

use caseledger_cases::case::{CaseEvent, StreamName, decode_event};
use caseledger_cases::practice::{
    DhuSlotsObserved, PracticeDetails, PracticeRegistration, SlotVerification, SlotsObserved, VerificationVerdict,
};
use caseledger_cases::values::ListSize;
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::envelope_of;

pub use queries::{
    DhuObservation, LatestObservation, Observation, PracticeFilter, PracticePage, PracticeSummary, VerificationRow,
    count, dhu_observations, due_for_verification, get, latest_extract_date, latest_observations, latest_verifications,
    observations, page, pcn_names, verifications,
};

pub const NAME: &str = <PracticeViewProjection as crate::declared::Registered>::NAME;

impl crate::declared::Registered for PracticeViewProjection {
    const NAME: &'static str = "practice_view";
    const TABLES: &'static [&'static str] = &[
        "practice_view",
        "practice_observations",
        "dhu_observations",
        "extract_dates",
        "practice_case_map",
        "pcns",
        "slot_verifications",
    ];
}

#[derive(Debug, Default)]
pub struct PracticeViewProjection;

/// A `practice_view` row: every column, as the table holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeRow {
    pub ods_code: String,
    pub name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    /// From the latest observation; from the register until the first.
    pub list_size: i32,
    pub required_slots: i32,
    /// The latest dashboard observation: its date, what the 111 provider could see, and whether
    /// that met the requirement.
    pub report_date: Option<NaiveDate>,
    pub visible_slots: Option<i32>,
    pub compliant: Option<bool>,
    pub registered: bool,
    pub main_site: Option<String>,
    pub branch_sites: Vec<String>,
    /// What the practice configured at its cases' last remap, and when.
    pub configured_slots: Option<i32>,
    pub configured_at: Option<DateTime<Utc>>,
    /// What the DHU saw last (a confirmation on a case, or its own extract), and when.
    pub dhu_slots: Option<i32>,
    pub dhu_seen_at: Option<DateTime<Utc>>,
    /// The counts disagree: one of them is below the requirement while another meets it.
    pub disagreement: bool,
    /// What ODS publishes: the practice's address, postcode and telephone (organisational
    /// contact details), when it opened and closed, its status (`ACTIVE`, `CLOSED`, …).
    #[serde(default)]
    pub address: Vec<String>,
    #[serde(default)]
    pub postcode: Option<String>,
    #[serde(default)]
    pub telephone: Option<String>,
    #[serde(default)]
    pub opened: Option<NaiveDate>,
    /// The day it closed; for a closed practice ODS gives no date for, its status says so.
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    #[serde(default)]
    pub ods_status: Option<String>,
    /// The extract date of the published list size, when the list size is that.
    #[serde(default)]
    pub list_size_date: Option<NaiveDate>,
}

/// One count of a practice's slots, and when it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub slots: i32,
    pub at: DateTime<Utc>,
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

impl PracticeRow {
    fn new(practice: &PracticeDetails, list_size: ListSize) -> Self {
        Self {
            ods_code: practice.ods_code.to_string(),
            name: practice.name.to_string(),
            pcn_code: practice.pcn_code.to_string(),
            pcn_name: practice.pcn_name.as_ref().map(ToString::to_string),
            place: practice.place.to_string(),
            list_size: int(list_size.get()),
            required_slots: int(caseledger_cases::required_slots(list_size)),
            report_date: None,
            visible_slots: None,
            compliant: None,
            registered: false,
            main_site: None,
            branch_sites: Vec::new(),
            configured_slots: None,
            configured_at: None,
            dhu_slots: None,
            dhu_seen_at: None,
            disagreement: false,
            address: Vec::new(),
            postcode: None,
            telephone: None,
            opened: None,
            closed_on: None,
            ods_status: None,
            list_size_date: None,
        }
    }

    /// Configured by the practice (last remap).
    pub fn configured(&self) -> Option<Count> {
        Some(Count {
            slots: self.configured_slots?,
            at: self.configured_at?,
        })
    }

    /// Seen by the DHU (latest confirmation or extract).
    pub fn seen_by_dhu(&self) -> Option<Count> {
        Some(Count {
            slots: self.dhu_slots?,
            at: self.dhu_seen_at?,
        })
    }

    /// The dashboard's (latest observation).
    pub fn dashboard(&self) -> Option<Count> {
        Some(Count {
            slots: self.visible_slots?,
            at: midnight(self.report_date?),
        })
    }

    /// Closed, as ODS publishes it: a day it closed, or a status that says so without one.
    pub fn is_closed(&self) -> bool {
        self.closed_on.is_some() || self.ods_status.as_deref() == Some("CLOSED")
    }

    /// One count below the requirement while another meets it: the practice, the DHU and the
    /// dashboard do not see the same thing.
    pub fn counts_disagree(&self) -> bool {
        let counts: Vec<i32> = [self.configured(), self.seen_by_dhu(), self.dashboard()]
            .into_iter()
            .flatten()
            .map(|c| c.slots)
            .collect();
        let required = self.required_slots.max(1);
        counts.iter().any(|n| *n < required) && counts.iter().any(|n| *n >= required)
    }

    fn describe(&mut self, practice: &PracticeDetails) {
        self.name = practice.name.to_string();
        self.pcn_code = practice.pcn_code.to_string();
        if let Some(pcn_name) = &practice.pcn_name {
            self.pcn_name = Some(pcn_name.to_string());
        }
        self.place = practice.place.to_string();
    }

    fn observed(&mut self, observed: &SlotsObserved) {
        // The register describes a registered practice; the dashboard one that is not.
        if !self.registered {
            self.describe(&observed.practice);
        }
        if self.report_date.is_none_or(|latest| latest <= observed.report_date) {
            self.report_date = Some(observed.report_date);
            self.visible_slots = Some(int(observed.visible_slots.get()));
            self.compliant = Some(observed.compliant());
            // A published list size newer than the dashboard's row stands.
            if self
                .list_size_date
                .is_none_or(|extract| extract <= observed.report_date)
            {
                self.list_size = int(observed.list_size.get());
                self.required_slots = int(observed.required_slots);
            }
        }
    }

    fn registered_as(&mut self, entry: &PracticeRegistration) {
        self.registered = true;
        self.describe(&entry.practice);
        self.main_site = Some(entry.main_site.to_string());
        self.branch_sites = entry.branch_sites.iter().map(ToString::to_string).collect();
        // The dashboard's list size is the week's; the register's stands until the first, and a
        // published list size from then on when its extract is as recent as the dashboard's.
        let published_since = match (entry.list_size_date, self.report_date) {
            (Some(extract), Some(report)) => extract >= report,
            _ => false,
        };
        if self.report_date.is_none() || published_since {
            self.list_size = int(entry.list_size.get());
            self.required_slots = int(caseledger_cases::required_slots(entry.list_size));
        }
        self.list_size_date = entry.list_size_date;
        if let Some(ods) = &entry.ods {
            self.address = ods.address.iter().map(ToString::to_string).collect();
            self.postcode = ods.postcode.as_ref().map(ToString::to_string);
            self.telephone = ods.telephone.as_ref().map(ToString::to_string);
            self.opened = ods.opened;
            self.closed_on = ods.closed;
            self.ods_status = serde_json::to_value(ods.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string));
        }
    }

    fn dhu_saw(&mut self, slots: u32, at: DateTime<Utc>) {
        if self.dhu_seen_at.is_none_or(|seen| seen <= at) {
            self.dhu_slots = Some(int(slots));
            self.dhu_seen_at = Some(at);
        }
    }

    fn configured_as(&mut self, slots: u32, at: DateTime<Utc>) {
        if self.configured_at.is_none_or(|configured| configured <= at) {
            self.configured_slots = Some(int(slots));
            self.configured_at = Some(at);
        }
    }
}

#[derive(Debug, Serialize)]
struct ObservationRow<'a> {
    ods_code: &'a str,
    report_date: NaiveDate,
    visible_slots: u32,
    required_slots: u32,
    list_size: u32,
}

/// The event types this projection reads.
const READS: [&str; 9] = [
    SlotsObserved::EVENT_TYPE,
    SlotVerification::VERIFIED,
    SlotVerification::FAILED,
    PracticeRegistration::REGISTERED,
    PracticeRegistration::CHANGED,
    DhuSlotsObserved::EVENT_TYPE,
    "PracticeFlagged",
    "SlotsRemapped",
    "DhuVisibilityConfirmed",
];

impl EventHandler for PracticeViewProjection {
    fn reads(&self, event_type: &str) -> bool {
        READS.contains(&event_type)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        let events: Vec<&RecordedEvent> = events.iter().filter(|e| self.reads(&e.event_type)).collect();
        if events.is_empty() {
            return Ok(());
        }
        // The practice of each case event: from this batch's flags, else from the map.
        let mut case_practice: HashMap<Uuid, String> = HashMap::new();
        let mut new_cases: Vec<(Uuid, String)> = Vec::new();
        let mut unmapped: Vec<Uuid> = Vec::new();
        for event in &events {
            if let Some(StreamName::Case(case_id)) = StreamName::parse(&event.stream_id) {
                if event.event_type == "PracticeFlagged" {
                    if let CaseEvent::PracticeFlagged(flagged) = decode_event(&event.event_type, event.data.get())? {
                        let ods = flagged.practice.ods_code.to_string();
                        case_practice.insert(case_id, ods.clone());
                        new_cases.push((case_id, ods));
                    }
                } else if !case_practice.contains_key(&case_id) {
                    unmapped.push(case_id);
                }
            }
        }
        if !unmapped.is_empty() {
            for row in sqlx::query!(
                "select case_id, ods_code from practice_case_map where case_id = any($1)",
                &unmapped
            )
            .fetch_all(&mut *tx)
            .await?
            {
                case_practice.entry(row.case_id).or_insert(row.ods_code);
            }
        }

        let mut codes: Vec<String> = events
            .iter()
            .filter_map(|e| match StreamName::parse(&e.stream_id) {
                Some(StreamName::Practice(ods)) => Some(ods.to_string()),
                Some(StreamName::Case(case_id)) => case_practice.get(&case_id).cloned(),
                _ => None,
            })
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let mut rows: BTreeMap<String, PracticeRow> = sqlx::query_scalar!(
            r#"select to_jsonb(p) as "row!" from practice_view p where p.ods_code = any($1)"#,
            &codes
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(serde_json::from_value::<PracticeRow>)
        .map(|row| row.map(|row| (row.ods_code.clone(), row)))
        .collect::<Result<_, _>>()?;

        let mut observed: Vec<SlotsObserved> = Vec::new();
        let mut dhu: Vec<DhuSlotsObserved> = Vec::new();
        let mut verified: Vec<(Uuid, DateTime<Utc>, SlotVerification)> = Vec::new();
        for event in events {
            let decoded = decode_event(&event.event_type, event.data.get())?;
            match (&decoded, StreamName::parse(&event.stream_id)) {
                (CaseEvent::SlotsObserved(o), _) => {
                    rows.entry(o.practice.ods_code.to_string())
                        .or_insert_with(|| PracticeRow::new(&o.practice, o.list_size))
                        .observed(o);
                    observed.push(o.clone());
                }
                (CaseEvent::PracticeRegistered(entry) | CaseEvent::PracticeDetailsChanged(entry), _) => {
                    rows.entry(entry.practice.ods_code.to_string())
                        .or_insert_with(|| PracticeRow::new(&entry.practice, entry.list_size))
                        .registered_as(entry);
                }
                (CaseEvent::DhuSlotsObserved(o), Some(StreamName::Practice(ods))) => {
                    if let Some(row) = rows.get_mut(ods.as_str()) {
                        row.dhu_saw(o.visible_slots.get(), midnight(o.date));
                    }
                    dhu.push(o.clone());
                }
                (CaseEvent::SlotVisibilityVerified(v) | CaseEvent::SlotVisibilityCheckFailed(v), _) => {
                    verified.push((event.event_id, envelope_of(event)?.occurred_at, v.clone()));
                }
                (CaseEvent::PracticeFlagged(flagged), _) => {
                    rows.entry(flagged.practice.ods_code.to_string())
                        .or_insert_with(|| PracticeRow::new(&flagged.practice, flagged.list_size));
                }
                (CaseEvent::SlotsRemapped(remap), Some(StreamName::Case(case_id))) => {
                    let at = envelope_of(event)?.occurred_at;
                    if let Some(row) = case_practice.get(&case_id).and_then(|ods| rows.get_mut(ods)) {
                        row.configured_as(remap.slots_per_day_configured.get(), at);
                    }
                }
                (CaseEvent::DhuVisibilityConfirmed(confirmed), Some(StreamName::Case(case_id))) => {
                    let at = envelope_of(event)?.occurred_at;
                    if let Some(row) = case_practice.get(&case_id).and_then(|ods| rows.get_mut(ods)) {
                        row.dhu_saw(confirmed.visible_slots_per_day.get(), at);
                    }
                }
                _ => {}
            }
        }
        for row in rows.values_mut() {
            row.disagreement = row.counts_disagree();
        }

        let written: Vec<&String> = rows.keys().collect();
        sqlx::query!(
            "delete from practice_view where ods_code = any($1)",
            &written as &[&String]
        )
        .execute(&mut *tx)
        .await?;
        let rows: Vec<&PracticeRow> = rows.values().collect();
        sqlx::query!(
            "insert into practice_view select * from jsonb_populate_recordset(null::practice_view, $1)",
            serde_json::to_value(&rows)?
        )
        .execute(&mut *tx)
        .await?;
        // The PCNs these practices are in, with the name and place they give.
        let pcn_codes: Vec<&str> = rows.iter().map(|row| row.pcn_code.as_str()).collect();
        let pcn_names: Vec<Option<&str>> = rows.iter().map(|row| row.pcn_name.as_deref()).collect();
        let places: Vec<&str> = rows.iter().map(|row| row.place.as_str()).collect();
        sqlx::query!(
            "insert into pcns (pcn_code, pcn_name, place)
             select distinct on (c) c, n, p from unnest($1::text[], $2::text[], $3::text[]) as u(c, n, p)
             order by c, n nulls last
             on conflict (pcn_code) do update set
                 pcn_name = coalesce(excluded.pcn_name, pcns.pcn_name), place = excluded.place",
            &pcn_codes as &[&str],
            &pcn_names as &[Option<&str>],
            &places as &[&str]
        )
        .execute(&mut *tx)
        .await?;
        if !new_cases.is_empty() {
            let (ids, codes): (Vec<Uuid>, Vec<String>) = new_cases.into_iter().unzip();
            sqlx::query!(
                "insert into practice_case_map (case_id, ods_code) select * from unnest($1::uuid[], $2::text[])
                 on conflict (case_id) do nothing",
                &ids,
                &codes
            )
            .execute(&mut *tx)
            .await?;
        }
        if !observed.is_empty() {
            let series: Vec<ObservationRow> = observed
                .iter()
                .map(|o| ObservationRow {
                    ods_code: o.practice.ods_code.as_str(),
                    report_date: o.report_date,
                    visible_slots: o.visible_slots.get(),
                    required_slots: o.required_slots,
                    list_size: o.list_size.get(),
                })
                .collect();
            let series = serde_json::to_value(series)?;
            sqlx::query!(
                r#"insert into practice_observations
                   select * from jsonb_to_recordset($1) as o(ods_code text, report_date date, visible_slots integer,
                                                             required_slots integer, list_size integer)
                   on conflict (ods_code, report_date) do update set
                       visible_slots = excluded.visible_slots, required_slots = excluded.required_slots,
                       list_size = excluded.list_size"#,
                series
            )
            .execute(&mut *tx)
            .await?;
            let mut dates: Vec<NaiveDate> = observed.iter().map(|o| o.report_date).collect();
            dates.sort_unstable();
            dates.dedup();
            sqlx::query!(
                "insert into extract_dates (report_date) select * from unnest($1::date[]) on conflict do nothing",
                &dates
            )
            .execute(&mut *tx)
            .await?;
        }
        if !dhu.is_empty() {
            let codes: Vec<String> = dhu.iter().map(|o| o.ods_code.to_string()).collect();
            let dates: Vec<NaiveDate> = dhu.iter().map(|o| o.date).collect();
            let slots: Vec<i32> = dhu.iter().map(|o| int(o.visible_slots.get())).collect();
            sqlx::query!(
                "insert into dhu_observations (ods_code, date, visible_slots)
                 select * from unnest($1::text[], $2::date[], $3::integer[])
                 on conflict (ods_code, date) do update set visible_slots = excluded.visible_slots",
                &codes,
                &dates,
                &slots
            )
            .execute(&mut *tx)
            .await?;
        }
        for (event_id, at, v) in &verified {
            let verdict = match v.verdict {
                VerificationVerdict::Enough => "ENOUGH",
                VerificationVerdict::TooFew => "TOO_FEW",
                VerificationVerdict::Failed => "FAILED",
            };
            sqlx::query!(
                "insert into slot_verifications (event_id, ods_code, case_id, verified_at, verdict, required_per_day,
                     min_per_core_day, window_start, window_end, short_days, error_code, error, days, slots,
                     past_slots, notices, provider_system)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                 on conflict (event_id) do nothing",
                event_id,
                v.ods_code.as_str(),
                v.case_id,
                at,
                verdict,
                int(v.required_per_day),
                v.min_per_core_day.map(int),
                v.window_start,
                v.window_end,
                &v.short_days,
                v.error_code.as_ref().map(|c| c.as_str()),
                v.error.as_ref().map(|c| c.as_str()),
                serde_json::to_value(&v.days)?,
                serde_json::to_value(&v.slots)?,
                int(v.past_slots),
                &v.notices
                    .iter()
                    .map(|n| n.as_str().to_string())
                    .collect::<Vec<String>>(),
                v.provider_system.as_ref().map(|s| s.as_str())
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(configured: Option<i32>, dhu: Option<i32>, dashboard: Option<i32>) -> PracticeRow {
        let at = Utc::now();
        PracticeRow {
            ods_code: "Z00011".into(),
            name: "Arden".into(),
            pcn_code: "U10001".into(),
            pcn_name: None,
            place: "Coventry".into(),
            list_size: 6_000,
            required_slots: 2,
            report_date: dashboard.map(|_| at.date_naive()),
            visible_slots: dashboard,
            compliant: dashboard.map(|n| n >= 2),
            registered: true,
            main_site: None,
            branch_sites: Vec::new(),
            configured_slots: configured,
            configured_at: configured.map(|_| at),
            dhu_slots: dhu,
            dhu_seen_at: dhu.map(|_| at),
            disagreement: false,
            address: Vec::new(),
            postcode: None,
            telephone: None,
            opened: None,
            closed_on: None,
            ods_status: None,
            list_size_date: None,
        }
    }

    #[test]
    fn counts_disagree_when_one_is_short_and_another_is_not() {
        assert!(!row(None, None, None).counts_disagree());
        assert!(!row(Some(2), None, None).counts_disagree(), "one count alone");
        assert!(!row(Some(2), Some(3), Some(2)).counts_disagree(), "all meet it");
        assert!(!row(Some(0), Some(1), Some(0)).counts_disagree(), "all short");
        assert!(
            row(Some(2), Some(0), None).counts_disagree(),
            "configured, the DHU sees none"
        );
        assert!(
            row(None, Some(2), Some(1)).counts_disagree(),
            "the DHU sees them, the dashboard not"
        );
    }
}
