//! The live updates' operation: which case changed, through the caller's lens.

use crate::contract::schema;

#[derive(cynic::QueryVariables, Debug, Default)]
pub struct ChangesVariables {
    /// One case's changes; every case the caller may see when `None`.
    pub case_id: Option<cynic::Id>,
}

/// Each event the caller's lens lets through, as the case it belongs to.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Subscription", variables = "ChangesVariables")]
pub struct Changes {
    #[arguments(caseId: $case_id)]
    pub case_events: ChangedCase,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "CaseEvent")]
pub struct ChangedCase {
    pub case_id: cynic::Id,
}
