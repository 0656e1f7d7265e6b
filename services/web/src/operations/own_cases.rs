//! The practice's (or the PCN's) own slot cases page: where each stands and what is asked.

use crate::contract::enums::CaseStatus;
use crate::contract::schema;

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct OwnCasesQuery {
    pub own_cases: Vec<OwnCase>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct OwnCase {
    pub ods_code: String,
    pub practice_name: String,
    pub status: CaseStatus,
    pub required_slots: i32,
    pub visible_slots: Option<i32>,
    pub supported: bool,
    pub deadline: Option<OwnDeadline>,
    pub asked_of_practice: Vec<String>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
#[cynic(graphql_type = "Deadline")]
pub struct OwnDeadline {
    pub awaiting: String,
    pub due_on: chrono::NaiveDate,
    pub overdue: bool,
}
