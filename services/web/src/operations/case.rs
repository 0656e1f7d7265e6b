//! The case page's operations.

use crate::contract::enums::{
    CaseHolder, CaseSource, CaseStatus, ContractReviewOutcome, ReopenReason, Role, RootCause, VisibleSlotsSource,
};
use crate::contract::{Instant, schema};
use crate::model::Deadline;

#[derive(cynic::QueryVariables, Debug)]
pub struct CaseVariables {
    pub id: cynic::Id,
}

/// A case as its page shows it, through the reader's lens.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "CaseVariables")]
pub struct CaseQuery {
    #[arguments(id: $id)]
    pub case: Option<CasePage>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Case")]
pub struct CasePage {
    pub status: CaseStatus,
    pub revision: i32,
    pub opened_at: Instant,
    pub compliant_at: Option<Instant>,
    pub closed_at: Option<Instant>,
    pub required_slots: i32,
    pub visible_slots: Option<i32>,
    pub visible_slots_source: Option<VisibleSlotsSource>,
    pub visible_slots_at: Option<Instant>,
    pub observed_compliant: bool,
    pub assigned_to: Option<String>,
    pub holder: Option<CaseHolder>,
    /// The commands the reader may issue on it now, by the command catalogue.
    pub available_commands: Vec<crate::contract::enums::Command>,
    pub root_causes: Vec<RootCause>,
    pub open_dhu_issue: bool,
    pub reopen_reason: Option<ReopenReason>,
    pub source: CaseSource,
    pub dhu_shortfall: Option<Shortfall>,
    pub contract_review_open: Option<bool>,
    pub contract_reviews: Vec<Review>,
    pub dhu_report: Option<OpenedFrom>,
    pub deadline: Option<Deadline>,
    pub latest_verification: Option<VerificationDetail>,
    pub practice: CasePractice,
    pub history: Vec<TimelineEvent>,
    /// The practice's answers to the champion: the words where the reader's lens shows them.
    pub practice_answers: Vec<crate::operations::own_cases::PracticeAnswer>,
}

impl CasePage {
    /// The case's status, as the domain knows it.
    pub fn state(&self) -> caseledger_cases::CaseStatus {
        self.status.into()
    }

    /// What decides the case's next step.
    pub fn facts(&self) -> caseledger_cases::next::CaseFacts {
        crate::model::facts(
            self.status,
            &self.root_causes,
            self.dhu_shortfall.as_ref().map(|s| (s.visible_slots, s.required_slots)),
            self.open_dhu_issue,
        )
    }
}

/// The case's practice as its page shows it.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Practice")]
pub struct CasePractice {
    pub ods_code: String,
    pub name: String,
    pub pcn_code: String,
    pub pcn_name: Option<String>,
    pub place: String,
    pub list_size: i32,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "DhuShortfall")]
pub struct Shortfall {
    pub visible_slots: i32,
    pub required_slots: i32,
    pub reported_at: Instant,
}

/// One contract review, as the reader's lens shows it.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "ContractReview")]
pub struct Review {
    pub escalated_at: Option<Instant>,
    pub escalated_by: Option<String>,
    pub reason: Option<String>,
    pub concluded_at: Option<Instant>,
    pub concluded_by: Option<String>,
    pub outcome: Option<ContractReviewOutcome>,
    pub note: Option<String>,
}

/// The DHU report a case was opened from.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "DhuReport")]
pub struct OpenedFrom {
    pub category: RootCause,
    /// The DHU's words, where the reader's lens shows them.
    pub detail: Option<String>,
    pub reported_at: Instant,
}

/// One event of the case's history, through the reader's lens.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CaseEvent")]
pub struct TimelineEvent {
    pub revision: i32,
    #[cynic(rename = "type")]
    pub event_type: String,
    pub occurred_at: Instant,
    pub actor_role: Role,
    /// `None` where the lens hides who.
    pub actor_id: Option<String>,
    /// The event's data as the lens leaves it: the timeline shows its fields in words.
    pub data: serde_json::Value,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct CountsVariables {
    pub ods: String,
}

/// The case's practice's three counts, when the reader may see the practice.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query", variables = "CountsVariables")]
pub struct CountsQuery {
    #[arguments(odsCode: $ods)]
    pub practice: Option<PracticeCounts>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "MonitoredPractice")]
pub struct PracticeCounts {
    pub counts: crate::operations::icb::Counts,
}

/// Whom the ICB may assign a case to.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct ChampionsQuery {
    pub icb: Champions,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "IcbView")]
pub struct Champions {
    pub champions: Vec<ChampionChoice>,
}

pub use crate::model::ChampionChoice;

pub use crate::operations::gpconnect::VerificationDetail;

#[derive(cynic::QueryVariables, Debug)]
pub struct VerifyVariables {
    pub id: cynic::Id,
}

/// "Verify through GP Connect": the search of the case's practice, recorded.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "VerifyVariables")]
pub struct VerifyCase {
    #[arguments(caseId: $id)]
    pub verify_slot_visibility: Verified,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "SlotVerification")]
pub struct Verified {
    pub verdict: crate::contract::enums::VerificationVerdict,
}
