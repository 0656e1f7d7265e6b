//! Result types, stored in events: all `Serialize + Deserialize + Clone + Debug + PartialEq`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The practice to check and what it must offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeTarget {
    /// Practice ODS code.
    pub ods_code: String,
    /// Free slots the practice must offer the 111 provider on each core-hours day.
    pub required_per_day: u32,
    /// Name (or Location id) of the main site; see [`crate::count`] for how it is matched.
    #[serde(default)]
    pub main_site_name: Option<String>,
    /// The register lists no branch surgery for the practice: every Location is its main site,
    /// including one the Bundle references without describing.
    #[serde(default)]
    pub single_site: bool,
}

/// Free slots at one Location on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationCount {
    /// Location id in the provider's system. Empty for the main site named by the caller when
    /// no Location of that name came back (a Location only appears with matching slots).
    pub location_id: String,
    /// Location name.
    pub name: Option<String>,
    /// Whether this is the main site.
    pub main_site: bool,
    /// A Location the Bundle references but does not describe, which the register cannot place
    /// (the practice has branches): neither main site nor branch, and said so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unresolved: bool,
    /// Bookable free slots starting in core hours.
    pub free_slots: u32,
}

/// One free slot the search returned inside the window, as NHS England's appointment checker
/// lists it: when, how long, which session, slot type, delivery channel and practitioner role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotDetail {
    /// UK local date.
    pub date: NaiveDate,
    /// UK local start time, `HH:MM`.
    pub start: String,
    /// Minutes from start to end (0 when the end could not be read).
    pub duration_minutes: u32,
    /// The Schedule's session or rota name (`Schedule.serviceCategory.text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The practice's own name for the slot type (`Slot.serviceType.text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_type: Option<String>,
    /// `In-person`, `Telephone` or `Video` (the delivery channel extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_channel: Option<String>,
    /// The Schedule's practitioner role (SDS job role name, e.g. "General Medical Practitioner").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner_role: Option<String>,
    /// The Location id (empty: the Schedule names none).
    pub location_id: String,
    /// Counted towards the requirement: starts in core hours on a core-hours day, not yet past.
    pub counted: bool,
    /// Already past when searched (in the window, not bookable).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub past: bool,
}

/// One core-hours day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// The day (UK local date).
    pub date: NaiveDate,
    /// Free slots at all sites.
    pub total: u32,
    /// Per Location, main site first.
    pub by_location: Vec<LocationCount>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Every core-hours day meets the requirement.
    Enough,
    /// Some core-hours days fall short.
    TooFew {
        /// The days below the requirement.
        short_days: Vec<NaiveDate>,
    },
    /// The search could not be completed.
    Failed {
        /// Spine error code from the OperationOutcome (`INVALID_PARAMETER`, `BAD_REQUEST`,
        /// `NO_RELATIONSHIP`, `ACCESS_DENIED`, ...), when there was one.
        code: Option<String>,
        /// What went wrong.
        message: String,
        /// HTTP status, when a response was received.
        #[serde(default)]
        http_status: Option<u16>,
    },
}

/// One practice's free-slot check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// First day.
    pub window_start: NaiveDate,
    /// Last day (inclusive).
    pub window_end: NaiveDate,
    /// The requirement checked.
    pub required_per_day: u32,
    /// Core-hours days only (weekends and bank holidays are left out). Empty when failed.
    pub days: Vec<DayCount>,
    /// Lowest total over the core-hours days; `None` when there were none or the check failed.
    pub min_per_core_day: Option<u32>,
    /// The verdict.
    pub verdict: Verdict,
    /// Every free slot returned inside the window (at most [`MAX_SLOT_DETAILS`]), in time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<SlotDetail>,
    /// Free slots in the window already past when searched: listed, never counted.
    #[serde(default)]
    pub past_slots: u32,
    /// What a searchset's informational or warning OperationOutcome said (its codes), kept
    /// beside the counts: not a failure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// The system that answered, from its CapabilityStatement ("EMIS Web 9.2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_system: Option<String>,
}

/// At most this many slots are kept in a verification's detail (a fortnight of a large practice).
pub const MAX_SLOT_DETAILS: usize = 3_000;

impl Verification {
    /// A failed verification.
    pub fn failed(
        window_start: NaiveDate,
        window_end: NaiveDate,
        required_per_day: u32,
        code: Option<String>,
        message: impl Into<String>,
        http_status: Option<u16>,
    ) -> Self {
        Self {
            window_start,
            window_end,
            required_per_day,
            days: Vec::new(),
            min_per_core_day: None,
            verdict: Verdict::Failed {
                code,
                message: message.into(),
                http_status,
            },
            slots: Vec::new(),
            past_slots: 0,
            notices: Vec::new(),
            provider_system: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_serialises_screaming_snake() {
        let d = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        assert_eq!(
            serde_json::to_value(Verdict::Enough).unwrap(),
            serde_json::json!({"verdict": "ENOUGH"})
        );
        assert_eq!(
            serde_json::to_value(Verdict::TooFew { short_days: vec![d] }).unwrap(),
            serde_json::json!({"verdict": "TOO_FEW", "short_days": ["2025-01-06"]})
        );
        let failed = Verdict::Failed {
            code: Some("BAD_REQUEST".into()),
            message: "m".into(),
            http_status: Some(400),
        };
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"verdict": "FAILED", "code": "BAD_REQUEST", "message": "m", "http_status": 400})
        );
        assert_eq!(serde_json::from_value::<Verdict>(json).unwrap(), failed);
        // Older events without http_status still load.
        let old: Verdict = serde_json::from_str(r#"{"verdict":"FAILED","code":null,"message":"x"}"#).unwrap();
        assert_eq!(
            old,
            Verdict::Failed {
                code: None,
                message: "x".into(),
                http_status: None
            }
        );
    }

    #[test]
    fn verification_round_trips() {
        let d = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        let v = Verification {
            window_start: d,
            window_end: d,
            required_per_day: 3,
            days: vec![DayCount {
                date: d,
                total: 2,
                by_location: vec![LocationCount {
                    location_id: "1".into(),
                    name: Some("Main".into()),
                    main_site: true,
                    unresolved: false,
                    free_slots: 2,
                }],
            }],
            min_per_core_day: Some(2),
            verdict: Verdict::TooFew { short_days: vec![d] },
            slots: Vec::new(),
            past_slots: 0,
            notices: Vec::new(),
            provider_system: None,
        };
        let back: Verification = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }
}
