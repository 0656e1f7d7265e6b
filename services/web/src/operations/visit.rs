//! What every party's page says first: what its data is as at, and when the person last visited.

use crate::contract::{Day, Instant, schema};

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct VisitQuery {
    pub me: Me,
    pub data_as_at: Option<Day>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Actor")]
pub struct Me {
    pub last_visit_at: Option<Instant>,
}
