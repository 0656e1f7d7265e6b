//! Scenario files for the fake provider (JSON).
//!
//! ```json
//! {
//!   "now": "2025-03-01T09:00:00Z",
//!   "practices": [{
//!     "ods_code": "A12345", "name": "Riverside Surgery",
//!     "locations": [{"id": "main", "name": "Riverside Surgery"}, {"id": "br", "name": "Hillside Branch"}],
//!     "practitioners": [{"id": "gp1", "family": "Jones", "given": ["Sarah"], "prefix": ["Dr"]}],
//!     "schedules": [{"id": "s1", "location": "main", "practitioner": "gp1", "name": "Morning surgery"}],
//!     "slots": [{"id": "x", "schedule": "s1", "start": "2025-03-03T09:00:00+00:00", "end": "2025-03-03T09:15:00+00:00"}],
//!     "generate": [{"schedule": "s1", "from": "2025-03-03", "to": "2025-03-14", "per_day": 3, "minutes": 15,
//!                   "first_start": "09:00", "slot_type": "111 slot",
//!                   "availability": {"gp_connect_bookable": true, "allowed_ods_codes": ["NHS111"], "allowed_org_types": []}}]
//!   }]
//! }
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::holidays::BankHolidays;
use crate::ukclock;

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not readable.
    #[error("cannot read scenario {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Not valid JSON for a scenario.
    #[error("scenario is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// Inconsistent content.
    #[error("scenario practice {ods_code}: {reason}")]
    Invalid {
        /// Practice.
        ods_code: String,
        /// What is wrong.
        reason: String,
    },
}

fn yes() -> bool {
    true
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Fixed clock for JWT expiry checks; the real clock when absent.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    /// Close this many TCP connections right after accepting them (transport-error injection).
    #[serde(default)]
    pub drop_first_connections: u32,
    /// The practices served, by ODS code path prefix.
    pub practices: Vec<PracticeScenario>,
    /// The `apikey` the fake Spine Directory Service wants (none: any or none).
    #[serde(default)]
    pub sds_api_key: Option<String>,
    /// Wait this long before answering each slot search (a slow practice system).
    #[serde(default)]
    pub answer_delay_ms: u64,
}

/// What a practice with GP Connect switched off looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenDisabled {
    /// HTTP 403 as the Spine Secure Proxy answers for a practice not set up for the interaction.
    #[default]
    Forbidden,
    /// HTTP 404: nothing at that address (no endpoint at all).
    NotFound,
}

/// Inject server errors before real answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedFailure {
    /// How many requests fail.
    pub count: u32,
    /// The status they get (e.g. 503).
    pub status: u16,
}

/// Booking availability settings of a schedule or slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    /// Marked "GP Connect bookable".
    #[serde(default = "yes")]
    pub gp_connect_bookable: bool,
    /// Restrict to these booking organisation ODS codes (empty: no ODS restriction).
    #[serde(default)]
    pub allowed_ods_codes: Vec<String>,
    /// Restrict to these organisation types, e.g. `urgent-care` (empty: no type restriction).
    #[serde(default)]
    pub allowed_org_types: Vec<String>,
}

impl Default for Availability {
    fn default() -> Self {
        Self {
            gp_connect_bookable: true,
            allowed_ods_codes: Vec::new(),
            allowed_org_types: Vec::new(),
        }
    }
}

/// A surgery (main site or branch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationSpec {
    /// Location id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A clinician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PractitionerSpec {
    /// Practitioner id.
    pub id: String,
    /// Family name.
    pub family: String,
    /// Given names.
    #[serde(default)]
    pub given: Vec<String>,
    /// Prefixes.
    #[serde(default)]
    pub prefix: Vec<String>,
    /// SDS user id.
    #[serde(default)]
    pub sds_user_id: Option<String>,
}

fn in_person() -> String {
    "In-person".to_owned()
}

fn gp_role() -> String {
    "R0260".to_owned()
}

/// A schedule (session or rota).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    /// Schedule id.
    pub id: String,
    /// Location id (mandatory: the practice itself or a branch).
    pub location: String,
    /// Practitioner id, if any.
    #[serde(default)]
    pub practitioner: Option<String>,
    /// Delivery channel: `In-person`, `Telephone` or `Video`.
    #[serde(default = "in_person")]
    pub delivery_channel: String,
    /// SDS job role code, e.g. `R0260`.
    #[serde(default = "gp_role")]
    pub practitioner_role: String,
    /// Schedule type (serviceCategory.text).
    #[serde(default)]
    pub name: Option<String>,
    /// Default availability for its slots.
    #[serde(default)]
    pub availability: Option<Availability>,
}

fn free() -> String {
    "free".to_owned()
}

/// One slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotSpec {
    /// Slot id.
    pub id: String,
    /// Schedule id.
    pub schedule: String,
    /// Start, with offset.
    pub start: DateTime<FixedOffset>,
    /// End, with offset.
    pub end: DateTime<FixedOffset>,
    /// `free` or `busy`.
    #[serde(default = "free")]
    pub status: String,
    /// Practice's slot type name (serviceType.text).
    #[serde(default)]
    pub slot_type: Option<String>,
    /// Availability; the schedule's when absent.
    #[serde(default)]
    pub availability: Option<Availability>,
}

fn nine() -> NaiveTime {
    NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// "N slots per core-hours weekday of M minutes from T" between two dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotGenerator {
    /// Schedule id.
    pub schedule: String,
    /// First date.
    pub from: NaiveDate,
    /// Last date (inclusive).
    pub to: NaiveDate,
    /// Slots per day.
    pub per_day: u32,
    /// Minutes per slot (back to back).
    pub minutes: u32,
    /// First start, UK local time.
    #[serde(default = "nine")]
    pub first_start: NaiveTime,
    /// `free` or `busy`.
    #[serde(default = "free")]
    pub status: String,
    /// Slot type name.
    #[serde(default)]
    pub slot_type: Option<String>,
    /// Availability; the schedule's when absent.
    #[serde(default)]
    pub availability: Option<Availability>,
}

/// One practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeScenario {
    /// ODS code (path prefix).
    pub ods_code: String,
    /// Practice name (Organization.name).
    #[serde(default)]
    pub name: String,
    /// GP Connect Appointment Management switched on.
    #[serde(default = "yes")]
    pub gp_connect_enabled: bool,
    /// Answer when switched off.
    #[serde(default)]
    pub when_disabled: WhenDisabled,
    /// Server errors before real answers.
    #[serde(default)]
    pub fail_first_requests: Option<InjectedFailure>,
    /// Longest accepted span in days (`end - start`); 14 when absent. A smaller value imitates
    /// a stricter provider and makes the fake answer 422 `INVALID_PARAMETER`.
    #[serde(default)]
    pub max_span_days: Option<i64>,
    /// Main site and branches.
    #[serde(default)]
    pub locations: Vec<LocationSpec>,
    /// Clinicians.
    #[serde(default)]
    pub practitioners: Vec<PractitionerSpec>,
    /// Schedules.
    #[serde(default)]
    pub schedules: Vec<ScheduleSpec>,
    /// Explicit slots.
    #[serde(default)]
    pub slots: Vec<SlotSpec>,
    /// Generated slots.
    #[serde(default)]
    pub generate: Vec<SlotGenerator>,
    /// The system its CapabilityStatement (`GET [base]/metadata`) names.
    #[serde(default)]
    pub system: ProviderSystem,
    /// What the fake Spine Directory Service holds of it.
    #[serde(default)]
    pub sds: SdsEntry,
}

/// A practice's entry in the fake Spine Directory Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdsEntry {
    /// SDS holds a GP Connect Appointment Management endpoint for it.
    #[serde(default = "yes")]
    pub endpoint: bool,
    /// Its ASID (none: the endpoint has none).
    #[serde(default = "default_asid")]
    pub asid: Option<String>,
}

fn default_asid() -> Option<String> {
    Some("918999198993".to_owned())
}

impl Default for SdsEntry {
    fn default() -> Self {
        Self {
            endpoint: true,
            asid: default_asid(),
        }
    }
}

/// The provider system a fake practice runs, as its CapabilityStatement says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSystem {
    /// `software.name`.
    #[serde(default = "fake_system_name")]
    pub name: String,
    /// `software.version`.
    #[serde(default)]
    pub version: Option<String>,
    /// Offers free-slot search (a `Slot` resource with `search-type`).
    #[serde(default = "yes")]
    pub slot_search: bool,
}

fn fake_system_name() -> String {
    "CaseLedger fake provider".to_owned()
}

impl Default for ProviderSystem {
    fn default() -> Self {
        Self {
            name: fake_system_name(),
            version: None,
            slot_search: true,
        }
    }
}

impl Scenario {
    /// Parse and check a scenario.
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Self = serde_json::from_str(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Read, parse and check a scenario file.
    pub fn from_path(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Check references and ids.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let mut seen = BTreeSet::new();
        for p in &self.practices {
            let bad = |reason: String| ScenarioError::Invalid {
                ods_code: p.ods_code.clone(),
                reason,
            };
            if p.ods_code.is_empty() || !p.ods_code.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad("ODS code must be alphanumeric".into()));
            }
            if !seen.insert(p.ods_code.to_ascii_uppercase()) {
                return Err(bad("duplicate practice".into()));
            }
            for s in &p.schedules {
                if !p.locations.iter().any(|l| l.id == s.location) {
                    return Err(bad(format!("schedule {} names unknown location {}", s.id, s.location)));
                }
                if let Some(pr) = &s.practitioner
                    && !p.practitioners.iter().any(|x| &x.id == pr)
                {
                    return Err(bad(format!("schedule {} names unknown practitioner {pr}", s.id)));
                }
            }
            let known = |id: &str| p.schedules.iter().any(|s| s.id == id);
            for s in &p.slots {
                if !known(&s.schedule) {
                    return Err(bad(format!("slot {} names unknown schedule {}", s.id, s.schedule)));
                }
                if s.end <= s.start {
                    return Err(bad(format!("slot {} ends before it starts", s.id)));
                }
            }
            for g in &p.generate {
                if !known(&g.schedule) {
                    return Err(bad(format!("generator names unknown schedule {}", g.schedule)));
                }
                if g.minutes == 0 {
                    return Err(bad("generator minutes must be positive".into()));
                }
            }
        }
        Ok(())
    }
}

impl PracticeScenario {
    /// Explicit slots followed by generated ones (core-hours weekdays only, using `holidays`).
    pub fn all_slots(&self, holidays: &BankHolidays) -> Vec<SlotSpec> {
        let mut slots = self.slots.clone();
        for g in &self.generate {
            let mut day = g.from;
            while day <= g.to {
                if holidays.is_core_day(day) {
                    for n in 0..g.per_day {
                        let start_local = day.and_time(g.first_start) + Duration::minutes(i64::from(n * g.minutes));
                        let end_local = start_local + Duration::minutes(i64::from(g.minutes));
                        slots.push(SlotSpec {
                            id: format!("{}-{}-{}", g.schedule, day.format("%Y%m%d"), n + 1),
                            schedule: g.schedule.clone(),
                            start: ukclock::from_local(start_local),
                            end: ukclock::from_local(end_local),
                            status: g.status.clone(),
                            slot_type: g.slot_type.clone(),
                            availability: g.availability.clone(),
                        });
                    }
                }
                let Some(next) = day.succ_opt() else { break };
                day = next;
            }
        }
        slots
    }

    /// The availability in force for a slot: its own, else its schedule's, else unrestricted.
    pub fn availability_of(&self, slot: &SlotSpec) -> Availability {
        slot.availability
            .clone()
            .or_else(|| {
                self.schedules
                    .iter()
                    .find(|s| s.id == slot.schedule)
                    .and_then(|s| s.availability.clone())
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_fills_core_weekdays_with_uk_offsets() {
        let json = r#"{"practices":[{"ods_code":"A1","name":"P","locations":[{"id":"l","name":"L"}],
            "schedules":[{"id":"s","location":"l"}],
            "generate":[{"schedule":"s","from":"2025-03-27","to":"2025-04-01","per_day":2,"minutes":15,"first_start":"09:00"}]}]}"#;
        let scenario = Scenario::from_json(json).unwrap();
        let slots = scenario.practices[0].all_slots(&BankHolidays::england_and_wales());
        // Thu 27, Fri 28, (weekend, BST starts Sun 30), Mon 31, Tue 1: 4 days x 2.
        assert_eq!(slots.len(), 8);
        assert_eq!(slots[0].start.to_rfc3339(), "2025-03-27T09:00:00+00:00");
        assert_eq!(slots[1].start.to_rfc3339(), "2025-03-27T09:15:00+00:00");
        assert_eq!(slots[4].start.to_rfc3339(), "2025-03-31T09:00:00+01:00");
        assert_eq!(slots[4].id, "s-20250331-1");
        assert_eq!(
            scenario.practices[0].availability_of(&slots[0]),
            Availability::default()
        );
    }

    #[test]
    fn bad_references_are_rejected() {
        let json = r#"{"practices":[{"ods_code":"A1","schedules":[{"id":"s","location":"nowhere"}]}]}"#;
        assert!(matches!(Scenario::from_json(json), Err(ScenarioError::Invalid { .. })));
        let json = r#"{"practices":[{"ods_code":"A1"},{"ods_code":"a1"}]}"#;
        assert!(matches!(Scenario::from_json(json), Err(ScenarioError::Invalid { .. })));
        assert!(matches!(Scenario::from_json("{}"), Err(ScenarioError::Json(_))));
    }
}
