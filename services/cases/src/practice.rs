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

/// A practice as the ICB's register holds it: who it is, where (its PCN and place are reference
/// data from here on), its list size, and its sites. `PracticeRegistered` the first time,
/// `PracticeDetailsChanged` (the whole entry as it is now) when a later register differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeRegistration {
    pub practice: PracticeDetails,
    pub list_size: ListSize,
    /// The main surgery's name.
    pub main_site: ShortText,
    /// Branch surgeries, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branch_sites: Vec<ShortText>,
    /// What ODS publishes of the practice (`epraccur.csv`), when the register came from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ods: Option<OdsDetails>,
    /// The extract date of the published list size ("Patients Registered at a GP Practice").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_size_date: Option<NaiveDate>,
    /// Since when the practice is in its PCN (ODS's ePCN release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcn_joined: Option<NaiveDate>,
}

impl PracticeRegistration {
    pub const REGISTERED: &'static str = "PracticeRegistered";
    pub const CHANGED: &'static str = "PracticeDetailsChanged";

    /// The day the practice closed, if it has (ODS status C, or a close date).
    pub fn closed(&self) -> Option<NaiveDate> {
        self.ods.as_ref().and_then(OdsDetails::closed_on)
    }
}

/// An organisation's status in ODS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OdsStatus {
    Active,
    Closed,
    Dormant,
    Proposed,
}

impl OdsStatus {
    /// ODS's code: a letter in the files NHS Digital published (A, C, D, P), a word in those of
    /// ODS Data Search and Export (ACTIVE, INACTIVE, DORMANT, PROPOSED).
    pub fn from_code(code: &str) -> Option<Self> {
        match code.to_ascii_uppercase().as_str() {
            "A" | "ACTIVE" => Some(Self::Active),
            "C" | "CLOSED" | "INACTIVE" => Some(Self::Closed),
            "D" | "DORMANT" => Some(Self::Dormant),
            "P" | "PROPOSED" => Some(Self::Proposed),
            _ => None,
        }
    }
}

/// A GP practice as ODS publishes it: where it is and how to reach it (organisational contact
/// details, not a person's), when it opened and closed, and who commissions it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OdsDetails {
    /// Address lines, as published (empty lines left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<NaiveDate>,
    pub status: OdsStatus,
    /// The commissioner: a sub-ICB location code (a CCG code before July 2022).
    pub commissioner: ShortText,
}

impl OdsDetails {
    /// The day it closed: its close date, or for status C without one, the day it is not known
    /// (`NaiveDate::MIN`: closed since before anything CaseLedger holds).
    pub fn closed_on(&self) -> Option<NaiveDate> {
        match (self.closed, self.status) {
            (Some(day), _) => Some(day),
            (None, OdsStatus::Closed) => Some(NaiveDate::MIN),
            _ => None,
        }
    }
}

/// One row of the DHU's own visibility extract: the bookable 111 slots it could see at the
/// practice in core hours on `date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhuSlotsObserved {
    pub ods_code: OdsCode,
    pub date: NaiveDate,
    pub visible_slots: SlotCount,
}

impl DhuSlotsObserved {
    pub const EVENT_TYPE: &'static str = "DhuSlotsObserved";
}

/// How many free slots one location of the practice offered the 111 provider on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationSlots {
    /// The FHIR Location's id as the practice's system gave it.
    pub location_id: ShortText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ShortText>,
    pub main_site: bool,
    /// A location the search's answer names but does not describe, which the register cannot
    /// place (the practice has branches): neither main site nor branch.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unresolved: bool,
    pub free_slots: u32,
}

/// One free slot a search returned inside its window, as NHS England's appointment checker lists
/// it. Text is the practice system's own configuration (slot types, session names), never a
/// patient's or a clinician's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedSlot {
    pub date: NaiveDate,
    /// UK local start, `HH:MM`.
    pub start: ShortText,
    pub duration_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_type: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_channel: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner_role: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<ShortText>,
    /// Counted towards the requirement: in core hours on a core-hours day, not past.
    pub counted: bool,
    /// Already past when searched.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub past: bool,
}

/// One core-hours day (08:00–18:30 UK time, Monday to Friday, not a bank holiday) of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedDay {
    pub date: NaiveDate,
    pub total: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<LocationSlots>,
}

/// What a GP Connect free-slot search found against the practice's requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerificationVerdict {
    /// Every core-hours day of the window met the requirement.
    Enough,
    /// At least one core-hours day fell short.
    TooFew,
    /// The search did not answer: an OperationOutcome, a refusal or a transport error.
    Failed,
}

/// CaseLedger's own free-slot search through GP Connect, as the 111 provider runs it, in
/// `practice-<ODS code>`: `SlotVisibilityVerified` when the practice's system answered (the
/// verdict ENOUGH or TOO_FEW), `SlotVisibilityCheckFailed` (verdict FAILED, with the error) when
/// it did not. The time of the search is the event's business time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotVerification {
    pub ods_code: OdsCode,
    /// The case it was asked for, if any (a scheduled run asks for the practice's open case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<uuid::Uuid>,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    /// The requirement it was judged against: slots a core-hours day.
    pub required_per_day: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<VerifiedDay>,
    /// The fewest free slots on any core-hours day of the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_per_core_day: Option<u32>,
    pub verdict: VerificationVerdict,
    /// The core-hours days below the requirement (TOO_FEW).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_days: Vec<NaiveDate>,
    /// The OperationOutcome's code (FAILED), e.g. `INVALID_PARAMETER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ShortText>,
    /// What went wrong (FAILED); may name the endpoint, so not every party sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ShortText>,
    /// Every free slot returned inside the window, in time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<VerifiedSlot>,
    /// Free slots inside the window already past when searched (listed, never counted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub past_slots: u32,
    /// Informational or warning OperationOutcomes beside the answer: their codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<ShortText>,
    /// The practice's system, as its CapabilityStatement names it ("EMIS Web 9.2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_system: Option<ShortText>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl SlotVerification {
    pub const VERIFIED: &'static str = "SlotVisibilityVerified";
    pub const FAILED: &'static str = "SlotVisibilityCheckFailed";

    pub fn event_type(&self) -> &'static str {
        match self.verdict {
            VerificationVerdict::Failed => Self::FAILED,
            _ => Self::VERIFIED,
        }
    }

    /// The event that records it: verified, or check failed.
    pub fn into_event(self) -> crate::case::CaseEvent {
        match self.verdict {
            VerificationVerdict::Failed => crate::case::CaseEvent::SlotVisibilityCheckFailed(self),
            _ => crate::case::CaseEvent::SlotVisibilityVerified(self),
        }
    }
}
