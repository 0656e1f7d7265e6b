//! A GP practice as the dashboard describes it, and its monitoring history: one `SlotsObserved`
//! per dashboard row, in the stream `practice-<ODS code>`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::values::{ListSize, OdsCode, PcnCode, ShortText, SlotCount};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeDetails {
    pub ods_code: OdsCode,
    pub name: ShortText,
    pub pcn_code: PcnCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcn_name: Option<ShortText>,
    pub place: ShortText,
}

/// One dashboard row: what the 111 provider could book at this practice on the report date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotsObserved {
    pub report_date: NaiveDate,
    pub visible_slots: SlotCount,
    pub list_size: ListSize,
    pub required_slots: u32,
    pub practice: PracticeDetails,
}

impl SlotsObserved {
    pub const EVENT_TYPE: &'static str = "SlotsObserved";
    pub const SCHEMA_VERSION: u32 = 1;

    pub fn compliant(&self) -> bool {
        self.visible_slots.get() >= self.required_slots
    }
}

/// The stream holding a practice's observations.
pub fn practice_stream(ods_code: &OdsCode) -> String {
    format!("practice-{ods_code}")
}
