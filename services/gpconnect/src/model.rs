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
    /// Bookable free slots starting in core hours.
    pub free_slots: u32,
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
}

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
                    free_slots: 2,
                }],
            }],
            min_per_core_day: Some(2),
            verdict: Verdict::TooFew { short_days: vec![d] },
        };
        let back: Verification = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }
}
