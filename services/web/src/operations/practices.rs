//! The practice page's operation.

use crate::contract::enums::{CaseStatus, OdsStatus, RootCause};
use crate::contract::{Day, Instant, schema};
use crate::model::EventRow;
use crate::operations::gpconnect::{Verification, VerificationDetail};

#[derive(cynic::QueryVariables, Debug)]
pub struct PracticeVariables {
    pub ods: String,
    /// The first week the chart shows.
    pub from: Option<Day>,
}

/// A practice as its page shows it.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "PracticeVariables")]
pub struct PracticeQuery {
    #[arguments(odsCode: $ods)]
    pub practice: Option<PracticePage>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "MonitoredPractice", variables = "PracticeVariables")]
pub struct PracticePage {
    pub ods_code: String,
    pub name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub list_size: i32,
    pub required_slots: i32,
    pub registered: bool,
    pub main_site: Option<String>,
    pub branch_sites: Vec<String>,
    pub missing_weeks: i32,
    pub list_size_date: Option<Day>,
    pub ods: Option<OdsEntry>,
    /// Its open case, if any: without one, the ICB may flag it here.
    pub open_case: Option<crate::operations::reports::CaseId>,
    pub counts: Counts,
    pub latest_verification: Option<VerificationDetail>,
    /// Its last searches, latest first, to say what changed from one to the next.
    #[arguments(last: 10)]
    pub verifications: Vec<PastSearch>,
    #[arguments(from: $from)]
    pub observations: Vec<Week>,
    pub cases: Vec<PracticeCase>,
    pub episodes: Vec<Episode>,
    pub dhu_reports: Vec<PracticeReport>,
}

/// What ODS publishes of the practice.
#[derive(cynic::QueryFragment, Debug)]
pub struct OdsEntry {
    pub address: Vec<String>,
    pub postcode: Option<String>,
    pub telephone: Option<String>,
    pub opened: Option<Day>,
    pub closed_on: Option<Day>,
    pub status: OdsStatus,
}

/// The three counts of a practice's slots, and whether they disagree.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "SlotCounts")]
pub struct Counts {
    pub required_slots: i32,
    pub disagreement: bool,
    pub configured: Option<Count>,
    pub seen_by_dhu: Option<Count>,
    pub dashboard: Option<Count>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "SlotCount")]
pub struct Count {
    pub slots: i32,
    pub at: Instant,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "WeeklyObservation")]
pub struct Week {
    pub report_date: Day,
    pub visible_slots: i32,
    pub required_slots: i32,
}

/// A case of the practice, for the DHU's confirmations in its history.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Case")]
pub struct PracticeCase {
    pub history: Vec<EventRow>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CaseEpisode")]
pub struct Episode {
    pub case_id: cynic::Id,
    pub opened_at: Instant,
    pub compliant_at: Option<Instant>,
    pub status: CaseStatus,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "DhuReport")]
pub struct PracticeReport {
    pub category: RootCause,
    pub detail: Option<String>,
    pub reported_at: Instant,
}

#[derive(cynic::InputObject, Debug)]
pub struct FlagPracticeInput {
    pub ods_code: String,
    pub practice_name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub list_size: i32,
    pub visible_slots: i32,
    pub reason: Option<String>,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct FlagVariables {
    pub input: FlagPracticeInput,
}

/// The ICB flags a practice by hand, from its page.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "FlagVariables")]
pub struct FlagPractice {
    #[arguments(input: $input)]
    pub flag_practice: FlaggedPayload,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CasePayload")]
pub struct FlaggedPayload {
    pub case: crate::operations::reports::CaseId,
}

/// A GP Connect search as the practice's history lists it.
#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "SlotVerification")]
pub struct PastSearch {
    #[cynic(spread)]
    pub summary: Verification,
    pub by_slot_type: Vec<crate::model::SlotTally>,
    pub by_delivery_channel: Vec<crate::model::SlotTally>,
}
