//! GP Connect's free-slot searches as every page reads them (a search's summary, and its detail
//! day by day and slot by slot), and the search of many practices at once: its mutation, its
//! results as they come in, and the slots of each for the spreadsheet.

use crate::contract::enums::VerificationVerdict;
use crate::contract::{Day, Instant, schema};
use crate::model::PageInfo;
pub use crate::model::SlotTally;

/// CaseLedger's latest GP Connect search of the practice.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "SlotVerification")]
pub struct Verification {
    pub verified_at: Instant,
    pub verdict: VerificationVerdict,
    pub min_per_core_day: Option<i32>,
    pub required_per_day: i32,
    pub short_days: Vec<Day>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    /// The practice's system, as its CapabilityStatement names it.
    pub provider_system: Option<String>,
}

/// A GP Connect search day by day, location by location and slot by slot: what the case page
/// shows right after "Verify through GP Connect", and the practice page of its latest.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "SlotVerification")]
pub struct VerificationDetail {
    #[cynic(spread)]
    pub summary: Verification,
    pub window_start: Day,
    pub window_end: Day,
    pub days: Vec<VerifiedDay>,
    pub slots: Vec<FreeSlot>,
    pub by_delivery_channel: Vec<SlotTally>,
    pub by_slot_type: Vec<SlotTally>,
    pub past_slots: i32,
    pub notices: Vec<String>,
}

/// One free slot the search returned, as the appointment checker lists it.
#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct FreeSlot {
    pub date: Day,
    pub start: String,
    pub duration_minutes: i32,
    pub session: Option<String>,
    pub slot_type: Option<String>,
    pub delivery_channel: Option<String>,
    pub practitioner_role: Option<String>,
    pub location_id: Option<String>,
    pub counted: bool,
    pub past: bool,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct VerifiedDay {
    pub date: Day,
    pub free_slots: i32,
    pub locations: Vec<LocationSlotCount>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct LocationSlotCount {
    pub location_id: String,
    pub name: Option<String>,
    pub main_site: bool,
    pub unresolved: bool,
    pub free_slots: i32,
}

/// Which practices: one PCN, one place, or a list of ODS codes (exactly one).
#[derive(cynic::QueryVariables, Debug, Clone, Default)]
pub struct BatchVariables {
    pub pcn: Option<String>,
    pub place: Option<String>,
    pub ods_codes: Option<Vec<String>>,
}

/// Searches many practices at once.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "BatchVariables")]
pub struct VerifyPractices {
    #[arguments(pcn: $pcn, place: $place, odsCodes: $ods_codes)]
    pub verify_practices: Batch,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "VerificationBatch")]
pub struct Batch {
    pub started_at: Instant,
}

/// The practices of a batch with their latest search, a page at a time.
#[derive(cynic::QueryVariables, Debug, Clone, Default)]
pub struct ResultsVariables {
    pub pcn: Option<String>,
    pub place: Option<String>,
    pub ods_codes: Option<Vec<String>>,
    pub after: Option<String>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "ResultsVariables")]
pub struct ResultsQuery {
    #[arguments(pcn: $pcn, place: $place, odsCodes: $ods_codes, closed: false, first: 200, after: $after)]
    pub practices: ResultConnection,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeConnection")]
pub struct ResultConnection {
    pub edges: Vec<ResultEdge>,
    pub page_info: PageInfo,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeEdge")]
pub struct ResultEdge {
    pub node: ResultPractice,
}

/// A practice of a batch and what its latest search found.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "MonitoredPractice")]
pub struct ResultPractice {
    pub ods_code: String,
    pub name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub required_slots: i32,
    pub latest_verification: Option<SearchFound>,
}

/// A search's summary with its counts by channel and slot type.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "SlotVerification")]
pub struct SearchFound {
    #[cynic(spread)]
    pub summary: Verification,
    pub by_delivery_channel: Vec<SlotTally>,
    pub by_slot_type: Vec<SlotTally>,
    pub past_slots: i32,
}

/// Some practices' latest searches with every slot (a few practices at a time: each search may
/// hold thousands).
#[derive(cynic::QueryVariables, Debug, Clone)]
pub struct SlotsVariables {
    pub ods_codes: Option<Vec<String>>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "SlotsVariables")]
pub struct SlotsQuery {
    #[arguments(odsCodes: $ods_codes, first: 20)]
    pub practices: SlotsConnection,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeConnection")]
pub struct SlotsConnection {
    pub edges: Vec<SlotsEdge>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeEdge")]
pub struct SlotsEdge {
    pub node: SlotsPractice,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "MonitoredPractice")]
pub struct SlotsPractice {
    pub ods_code: String,
    pub latest_verification: Option<SearchSlots>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "SlotVerification")]
pub struct SearchSlots {
    pub verified_at: Instant,
    pub slots: Vec<FreeSlot>,
}

/// The groups a person may search: each PCN and place of the practices they can see.
#[derive(cynic::QueryVariables, Debug, Clone, Default)]
pub struct GroupsVariables {
    pub after: Option<String>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "GroupsVariables")]
pub struct GroupsQuery {
    #[arguments(closed: false, first: 500, after: $after)]
    pub practices: GroupsConnection,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeConnection")]
pub struct GroupsConnection {
    pub edges: Vec<GroupsEdge>,
    pub page_info: PageInfo,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PracticeEdge")]
pub struct GroupsEdge {
    pub node: Group,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "MonitoredPractice")]
pub struct Group {
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
}
