//! The practice's (or the PCN's) own slot cases page: where each stands, what is asked, and the
//! practice's answers to the Digital Champion.

use crate::contract::enums::CaseStatus;
use crate::contract::{Instant, schema};

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct OwnCasesQuery {
    pub own_cases: Vec<OwnCase>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct OwnCase {
    pub id: cynic::Id,
    pub ods_code: String,
    pub practice_name: String,
    pub status: CaseStatus,
    pub required_slots: i32,
    pub visible_slots: Option<i32>,
    pub supported: bool,
    pub deadline: Option<OwnDeadline>,
    pub asked_of_practice: Vec<String>,
    pub answers: Vec<PracticeAnswer>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "Deadline")]
pub struct OwnDeadline {
    pub awaiting: String,
    pub due_on: chrono::NaiveDate,
    pub overdue: bool,
}

/// A practice's answer: its words for the practice (and those who work the case), only when for
/// its PCN.
#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct PracticeAnswer {
    pub id: cynic::Id,
    pub answered_at: Instant,
    pub text: Option<String>,
}

#[derive(cynic::InputObject, Debug)]
pub struct AnswerChampionInput {
    pub case_id: cynic::Id,
    pub text: String,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct AnswerVariables {
    pub input: AnswerChampionInput,
}

/// The practice answers the Digital Champion on its case.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "AnswerVariables")]
pub struct AnswerChampion {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub answer_champion: AnsweredCase,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "OwnCase")]
pub struct AnsweredCase {
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub id: cynic::Id,
}
