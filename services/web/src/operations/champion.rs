//! The champion's caseload page's operation.

use crate::contract::schema;
use crate::model::CaseRow;

/// The caseload: the caller's cases and the ones nobody has taken.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct CaseloadQuery {
    pub champion: Caseload,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "ChampionView")]
pub struct Caseload {
    /// The caller's cases, in the order of [`crate::lists::by_urgency`] once loaded.
    pub my_cases: Vec<CaseRow>,
    pub unassigned: Vec<CaseRow>,
}
